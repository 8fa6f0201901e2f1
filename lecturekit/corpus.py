"""The sentence corpus of notebook 06: a small probabilistic grammar of everyday English.

The lecture interpolates between "i went to the store to buy some groceries" and
"don't worry about it, she said". Instead of shipping a licensed corpus, the kit writes its own
with a seeded context-free grammar in that style (errands, feelings, dialogue, questions, weather,
places, plans, food, work, school, family, travel). Because the grammar is known, a decoded
sentence can be checked exactly: `is_grammar_sentence` parses it against the same rules.

Also here (and re-exported by `lecturekit.data`): `tokenize`, `detokenize`, `Vocab`,
`load_corpus`, `read_sentence_file`, `CorpusFormatError`, `build_corpus`.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from lecturekit.paths import data_dir
from lecturekit.splits import read_test_mask, write_split

__all__ = [
    "LECTURE_SENTENCES",
    "MAX_TOKENS",
    "MIN_TOKENS",
    "CorpusFormatError",
    "Vocab",
    "build_corpus",
    "detokenize",
    "generate_sentences",
    "is_grammar_sentence",
    "load_corpus",
    "read_sentence_file",
    "tokenize",
]

LECTURE_SENTENCES = ("i went to the store to buy some groceries", "don't worry about it, she said")
MIN_TOKENS = 3
MAX_TOKENS = 20
TEST_FRACTION = 0.02

# ----------------------------------------------------------------------------------------------
# tokens
# ----------------------------------------------------------------------------------------------

_PUNCT = ",.?!;:"
_OPEN = '("['
_CLOSE = ')"]'


def tokenize(sentence: str) -> list[str]:
    """Lower-case words; ``, . ? ! ; :`` and quotes/brackets become their own tokens.

    Apostrophes inside or at the start of a word stay in it, so contractions ("don't", "i'm") and
    Penn Treebank pieces ("'s", "n't") are one token, and a literal ``<unk>`` survives intact.
    """
    tokens: list[str] = []
    for chunk in sentence.lower().split():
        head: list[str] = []
        tail: list[str] = []
        while chunk and chunk[0] in _OPEN:
            head.append(chunk[0])
            chunk = chunk[1:]
        while chunk and (chunk[-1] in _PUNCT or chunk[-1] in _CLOSE):
            tail.append(chunk[-1])
            chunk = chunk[:-1]
        tokens.extend(head)
        if chunk:
            tokens.append(chunk)
        tokens.extend(reversed(tail))
    return tokens


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens back into text: no space before punctuation or after an opening bracket."""
    out = ""
    glue = True  # no space before the first token
    for tok in tokens:
        if tok in _PUNCT or tok in ")]":
            out += tok
        else:
            out += tok if glue else " " + tok
        glue = tok in "(["
    return out


# ----------------------------------------------------------------------------------------------
# vocabulary
# ----------------------------------------------------------------------------------------------

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)


class Vocab:
    """Word <-> id table with `<pad>`=0, `<s>`=1, `</s>`=2, `<unk>`=3; the model's only word list."""

    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __init__(self, itos: Sequence[str]):
        itos = list(itos)
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"a Vocab must start with {list(SPECIALS)}, got {itos[:4]}")
        if len(set(itos)) != len(itos):
            raise ValueError("a Vocab's words must be distinct")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(itos)}

    @classmethod
    def build(cls, sentences: Iterable[str | Sequence[str]], min_count: int = 1, max_size: int | None = None) -> Vocab:
        """Most frequent words first (ties alphabetical, so the ids are reproducible).

        `max_size` counts the four special tokens; rarer words fall back to `<unk>`.
        """
        counts: Counter[str] = Counter()
        for s in sentences:
            counts.update(tokenize(s) if isinstance(s, str) else s)
        words = sorted(
            (w for w, c in counts.items() if c >= min_count and w not in SPECIALS), key=lambda w: (-counts[w], w)
        )
        if max_size is not None:
            words = words[: max(0, max_size - len(SPECIALS))]
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: object) -> bool:
        return word in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words, fingerprint={self.fingerprint()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __hash__(self) -> int:
        return hash(tuple(self.itos))

    def encode(self, text: str | Sequence[str], add_special: bool = False) -> list[int]:
        """Ids of a sentence (str is tokenized first); unknown words, and a literal `<unk>`, -> 3.

        `add_special=True` wraps the ids in `<s>` ... `</s>`, as the decoder is trained on them.
        """
        tokens = tokenize(text) if isinstance(text, str) else list(text)
        ids = [self.stoi.get(t, self.unk_id) if t not in SPECIALS else self.unk_id for t in tokens]
        return [self.bos_id, *ids, self.eos_id] if add_special else ids

    def decode(self, ids: Iterable[int], strip_special: bool = True) -> list[str]:
        """Words of an id sequence; with `strip_special`, drops `<pad>`/`<s>` and stops at `</s>`."""
        words: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside this vocabulary (size {len(self.itos)})")
            if strip_special:
                if i == self.eos_id:
                    break
                if i in (self.pad_id, self.bos_id):
                    continue
            words.append(self.itos[i])
        return words

    def unknown_words(self, sentence: str | Sequence[str]) -> list[str]:
        """The words (each once, in order) that would become `<unk>`: what to tell the user."""
        tokens = tokenize(sentence) if isinstance(sentence, str) else list(sentence)
        seen: list[str] = []
        for t in tokens:
            if t not in self.stoi and t not in seen:
                seen.append(t)
        return seen

    def to_dict(self) -> dict:
        """A JSON-able form for checkpoints."""
        return {"itos": list(self.itos), "fingerprint": self.fingerprint()}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        """Inverse of `to_dict`; refuses a dict whose words do not match its fingerprint."""
        if not isinstance(d, dict) or "itos" not in d:
            raise ValueError("a Vocab dict needs an 'itos' list (made by Vocab.to_dict())")
        v = cls(d["itos"])
        if "fingerprint" in d and d["fingerprint"] != v.fingerprint():
            raise ValueError(f"Vocab fingerprint mismatch: stored {d['fingerprint']}, words give {v.fingerprint()}")
        return v

    def fingerprint(self) -> str:
        """12 hex digits of the sha256 of the word list: tells checkpoints' vocabularies apart."""
        return hashlib.sha256("\n".join(self.itos).encode("utf-8")).hexdigest()[:12]


# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------


class CorpusFormatError(ValueError):
    """A sentence file that cannot be read; the message names the file, the line and the fix."""


def read_sentence_file(path: str | Path) -> list[str]:
    """Sentences of a one-per-line text file (e.g. Penn Treebank `ptb.train.txt`).

    Blank lines are skipped, runs of spaces collapsed; `<unk>` is kept (the Vocab maps it to id 3).
    """
    path = Path(path)
    raw = path.read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise CorpusFormatError(
            f"{path}, line {line}: a NUL byte; this looks like a binary file, not one sentence per line of text"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise CorpusFormatError(
            f"{path}, line {line}: byte {raw[e.start]:#04x} is not UTF-8 text; "
            "save the file as UTF-8, one sentence per line"
        ) from None
    sentences = [" ".join(line.split()) for line in text.splitlines()]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise CorpusFormatError(f"{path}, line 1: the file holds no sentences; write one sentence per line")
    return sentences


def load_corpus(split: str = "all") -> list[str]:
    """The kit's corpus: "all", "train" or "test" (the ~2% held out in `split.json`)."""
    if split not in ("all", "train", "test"):
        raise ValueError(f"split must be 'all', 'train' or 'test', not {split!r}")
    folder = data_dir() / "corpus"
    sentences = read_sentence_file(folder / "sentences.txt")
    if split == "all":
        return sentences
    is_test = read_test_mask(
        folder / "split.json", len(sentences), CorpusFormatError, "rebuild it with lecturekit.corpus.build_corpus()"
    )
    return [s for s, held_out in zip(sentences, is_test) if held_out == (split == "test")]


# ----------------------------------------------------------------------------------------------
# the grammar
# ----------------------------------------------------------------------------------------------
# Rules map a NONTERMINAL (upper case) to weighted alternatives; an alternative is a sequence of
# terminals (tokens as `tokenize` writes them) and nonterminals. Templates that depend on the
# subject are written once with {placeholders} and expanded for each person below, which is how
# agreement (was/were, likes/like, my/her, i'm/she's) is kept.

_Alt = tuple[tuple[str, ...], float]

_IRREGULAR_PAST = {
    "be": "was",
    "buy": "bought",
    "bring": "brought",
    "catch": "caught",
    "do": "did",
    "drink": "drank",
    "drive": "drove",
    "eat": "ate",
    "feed": "fed",
    "find": "found",
    "fly": "flew",
    "get": "got",
    "give": "gave",
    "go": "went",
    "have": "had",
    "leave": "left",
    "make": "made",
    "meet": "met",
    "pay": "paid",
    "read": "read",
    "ride": "rode",
    "run": "ran",
    "see": "saw",
    "sell": "sold",
    "send": "sent",
    "sing": "sang",
    "sit": "sat",
    "sleep": "slept",
    "spend": "spent",
    "swim": "swam",
    "take": "took",
    "teach": "taught",
    "tell": "told",
    "throw": "threw",
    "wear": "wore",
    "write": "wrote",
    "put": "put",
    "cut": "cut",
    "lose": "lost",
    "hang": "hung",
    "build": "built",
    "win": "won",
    "forget": "forgot",
    "set": "set",
    "fall": "fell",
}
_DOUBLE = {
    "shop",
    "stop",
    "plan",
    "jog",
    "swim",
    "run",
    "sit",
    "get",
    "put",
    "cut",
    "win",
    "grab",
    "chat",
    "mop",
    "wrap",
    "set",
}


def _third(verb: str) -> str:
    """he/she form of a verb: "go" -> "goes", "study" -> "studies"."""
    special = {"have": "has", "do": "does", "go": "goes", "be": "is"}
    if verb in special:
        return special[verb]
    if verb.endswith(("s", "sh", "ch", "x", "z")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _past(verb: str) -> str:
    if verb in _IRREGULAR_PAST:
        return _IRREGULAR_PAST[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    if verb in _DOUBLE:
        return verb + verb[-1] + "ed"
    return verb + "ed"


def _ing(verb: str) -> str:
    if verb in ("be", "see", "flee"):
        return verb + "ing"
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if verb in _DOUBLE:
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _article(phrase: str) -> str:
    """ "a" or "an" for the phrase's first word (by sound, with the usual exceptions)."""
    word = phrase.split()[0]
    if word.startswith(("uni", "use", "euro", "one", "uk")):
        return "a"
    if word.startswith(("hour", "honest", "honor")):
        return "an"
    return "an" if word[0] in "aeiou" else "a"


def _a(phrases: Iterable[str]) -> list[str]:
    return [f"{_article(p)} {p}" for p in phrases]


def _words(text: str) -> list[str]:
    """A word list written as "a | b c | d": '|' separates alternatives (which may be several words)."""
    return [w.strip() for w in text.split("|") if w.strip()]


# person: pronoun, possessive, object, be (present), be (past), contracted be, will, have (perfect),
# does it take the -s form, weight in sampling
_PERSONS: dict[str, dict] = {
    "i": dict(poss="my", obj="me", be="am", was="was", cbe="i'm", will="i'll", cperf="i've", third=False, w=3.0),
    "you": dict(
        poss="your", obj="you", be="are", was="were", cbe="you're", will="you'll", cperf="you've", third=False, w=1.0
    ),
    "we": dict(
        poss="our", obj="us", be="are", was="were", cbe="we're", will="we'll", cperf="we've", third=False, w=2.0
    ),
    "they": dict(
        poss="their",
        obj="them",
        be="are",
        was="were",
        cbe="they're",
        will="they'll",
        cperf="they've",
        third=False,
        w=1.5,
    ),
    "he": dict(poss="his", obj="him", be="is", was="was", cbe="he's", will="he'll", cperf="he's", third=True, w=2.0),
    "she": dict(
        poss="her", obj="her", be="is", was="was", cbe="she's", will="she'll", cperf="she's", third=True, w=2.0
    ),
}

_NAMES_M = _words("""tom | jack | sam | ben | david | mike | james | daniel | peter | paul | mark | john |
    luke | noah |
    leo | oscar | max | henry | adam | ryan | kevin | steve | eric | frank | george | harry | ian | jake |
    joe |
    kyle | liam | matt | nick | owen | simon | tim | victor | carlos | omar | raj | kenji | ivan | hugo |
    felix |
    theo | ethan | marco | ali | pedro""")
_NAMES_F = _words("""anna | emma | lucy | sarah | kate | mia | julia | laura | maria | sophie | grace |
    lily | ella |
    amy | rachel | nina | olivia | chloe | zoe | hannah | claire | alice | rose | ruby | emily | helen |
    jenny |
    lisa | mary | megan | nora | priya | sofia | tina | vera | yuki | amira | fatima | ava | isla | molly |
    holly |
    beth | diana | eva | iris | leah | maya | paula | elena""")
_REL_M = _words("brother | dad | father | uncle | grandpa | grandfather | son | husband | nephew | boyfriend | cousin")
_REL_F = _words("sister | mom | mother | aunt | grandma | grandmother | daughter | wife | niece | girlfriend")
_REL_PL = _words(
    "parents | friends | kids | grandparents | cousins | neighbors | roommates | classmates | "
    "coworkers | brothers | sisters"
)
_CITIES = _words("""london | paris | rome | berlin | madrid | tokyo | chicago | boston | new york |
    toronto | sydney |
    dublin | vienna | prague | lisbon | amsterdam | barcelona | seattle | denver | miami | atlanta | dallas |
    houston | montreal | vancouver | athens | istanbul | cairo | mumbai | delhi | seoul | bangkok | beijing |
    shanghai | oslo | stockholm | copenhagen | helsinki | warsaw | budapest | edinburgh | glasgow |
    manchester |
    liverpool | florence | venice | naples | munich | zurich | geneva | brussels | mexico city | lima |
    portland | phoenix | austin | nashville | detroit | san francisco | los angeles | san diego | las vegas |
    hong kong | singapore | melbourne | auckland | cape town | nairobi | kyoto | osaka | milan | hamburg""")
_COUNTRIES = _words("""france | spain | italy | germany | japan | china | india | brazil | mexico | canada |
    australia | ireland | scotland | greece | turkey | egypt | morocco | kenya | peru | chile | argentina |
    norway | sweden | denmark | finland | iceland | poland | portugal | austria | switzerland | thailand |
    vietnam | korea | new zealand | south africa | hungary | croatia | belgium | the netherlands | cuba""")
_JOBS = _words("""teacher | nurse | doctor | lawyer | engineer | cook | chef | waiter | waitress |
    bus driver |
    taxi driver | mechanic | plumber | electrician | farmer | baker | pilot | dentist | accountant |
    architect |
    artist | musician | writer | journalist | police officer | firefighter | cashier | librarian |
    pharmacist |
    scientist | programmer | designer | photographer | carpenter | gardener | hairdresser | secretary |
    manager | receptionist | translator | tour guide | vet | painter | tailor | mail carrier | banker |
    builder | nanny | soccer coach | professor | flight attendant | cleaner | dancer | actor""")
_WORKPLACES = _words("""hospital | bank | bakery | library | post office | museum | hotel | airport | school |
    factory | restaurant | supermarket | pharmacy | gym | zoo | cafe | bookstore | garage | university |
    newspaper | city hall | train station | clinic | theater | flower shop | pet store | law firm |
    bike shop""")
_PLACES = _words("""store | supermarket | bakery | pharmacy | post office | bank | library | museum | park |
    gym |
    mall | cafe | restaurant | hospital | school | train station | bus stop | beach | pool | cinema | market |
    bookstore | hardware store | gas station | hotel | airport | zoo | church | police station | city hall |
    playground | laundromat | coffee shop | pizza place""")
_SUBJECTS = _words("""math | science | history | english | spanish | french | german | art | music | biology |
    chemistry | physics | geography | computer science | economics | drama | chinese | latin | algebra |
    literature""")
_ANIMALS = _words("""lions | tigers | elephants | giraffes | monkeys | penguins | bears | zebras | wolves |
    dolphins | sharks | snakes | frogs | owls | horses | cows | sheep | goats | rabbits | ducks | eagles |
    kangaroos | turtles | whales | dinosaurs | butterflies | bees | ants | spiders | foxes""")
_GROCERIES = _words("""groceries | milk | bread | eggs | apples | bananas | cheese | rice | pasta | coffee |
    tea |
    butter | yogurt | cereal | tomatoes | potatoes | onions | carrots | chicken | fish | orange juice |
    sugar |
    flour | cookies | snacks | soap | toilet paper | ice cream | lemons | grapes | strawberries | oranges |
    peppers | garlic | beans | soup | crackers | chips | water | batteries | dog food | cat food |
    paper towels |
    salt | olive oil | honey | peanut butter | jam | cucumbers | mushrooms | lettuce | spinach | avocados""")
_CLOTHES = _words("""jacket | coat | sweater | dress | shirt | scarf | hat | pair of jeans | pair of shoes |
    pair of boots | raincoat | suit | skirt | tie | belt | pair of gloves | swimsuit | backpack | handbag |
    watch | umbrella""")
_DISHES = _words("""pasta | pizza | soup | chicken soup | tomato soup | fried rice | pancakes | tacos |
    curry |
    spaghetti | lasagna | a salad | a sandwich | a burger | a stew | a pie | an omelet | a roast chicken |
    fish and chips | rice and beans | eggs and toast | a bowl of cereal | noodles | sushi | steak | oatmeal |
    waffles | a bagel | a burrito | dumplings | grilled cheese | mashed potatoes | vegetable soup |
    a chocolate cake | an apple pie | chili | leftover pizza | french toast | a quiche | meatballs""")
_FOOD_PL = _words("""pizza | pasta | chocolate | ice cream | vegetables | fruit | spicy food | seafood |
    sushi |
    mushrooms | onions | olives | cheese | coffee | tea | apples | bananas | strawberries | carrots |
    broccoli |
    spinach | tomatoes | peanut butter | pancakes | cookies | cake | soup | eggs | fish | chicken | rice |
    noodles | curry | tacos | salad | garlic | lemons | popcorn | candy | cereal""")
_SOME = _words("""coffee | tea | soup | cake | pie | water | juice | lemonade | bread | rice | salad |
    pasta | fruit |
    ice cream | cookies | chocolate | popcorn | cheese | grapes | pizza | hot chocolate | orange juice |
    milk""")
_LOST = _words("""keys | phone | wallet | glasses | umbrella | jacket | bag | passport | ticket | laptop |
    charger |
    notebook | gloves | scarf | hat | watch | headphones | book | lunch | homework""")
_EVENTS = _words("""the exam | the test | the trip | the interview | the party | the wedding | the game |
    the news |
    the move | the meeting | the concert | the results | the weekend | the holidays | the job | the flight |
    the first day of school | the new house | the date | the speech | the race | the show | the surgery |
    the doctor's appointment""")
_CUISINES = _words("""italian | chinese | mexican | indian | thai | japanese | french | greek | korean |
    vietnamese | lebanese | spanish | turkish | ethiopian""")
_DAYS = _words("monday | tuesday | wednesday | thursday | friday | saturday | sunday")
_MONTHS = _words("""january | february | march | april | may | june | july | august | september | october |
    november | december""")
_NUM_SMALL = _words("two | three | four | five | six | seven | eight | nine | ten")
_HOURS = _words("one | two | three | four | five | six | seven | eight | nine | ten | eleven | twelve")
_FEEL = _words("""happy | sad | tired | hungry | excited | nervous | bored | angry | upset | worried |
    scared |
    proud | lonely | grateful | confused | sleepy | thirsty | sick | cold | busy | glad | relieved | annoyed |
    embarrassed | surprised | disappointed | calm | homesick | exhausted | frustrated | jealous | cheerful |
    stressed | anxious | curious | hopeful | restless | shy | grumpy | sore""")
_FEEL_ABOUT = _words(
    "nervous | excited | worried | upset | sad | happy | confused | anxious | stressed | "
    "curious | angry | sorry | relieved | thrilled"
)
_HAPPY = _words("happy | glad | relieved | thrilled | proud | excited | surprised | grateful")
_SAD = _words("sad | upset | disappointed | worried | angry | scared | lonely | annoyed")
_WEATHER = _words("""cold | hot | warm | sunny | cloudy | windy | rainy | foggy | chilly | humid | stormy |
    lovely | nice | beautiful | gray | wet | icy | dry | mild | cool""")
_INTENS = _words("so | really | very | pretty | a little | a bit | quite | super | extremely | kind of")
_TASTE = _words("""delicious | amazing | too salty | a bit cold | really good | so spicy | too sweet |
    very fresh |
    still warm | burnt | perfect | terrible | not bad | really tasty | a little dry""")


class _Grammar:
    """Weighted context-free rules, a sampler and a recogniser (memoised top-down parse)."""

    def __init__(self) -> None:
        self.rules: dict[str, list[_Alt]] = {}

    # -- building ------------------------------------------------------------------------------
    def add(self, name: str, alts: Iterable[str | tuple[str, float]]) -> None:
        """Add alternatives to a rule; an alternative is "word NONTERMINAL , word" or (that, weight)."""
        rule = self.rules.setdefault(name, [])
        for alt in alts:
            text, weight = (alt, 1.0) if isinstance(alt, str) else alt
            rule.append((tuple(text.split()), float(weight)))

    def add_person(self, name: str, templates: Iterable[str | tuple[str, float]]) -> None:
        """Add `NAME@p` for each person p, with the template's {placeholders} and `verb+s` filled."""
        for p, attrs in _PERSONS.items():
            self.add(f"{name}@{p}", [_fill(t, p, attrs) for t in templates])

    def add_family(self, name: str, templates: Iterable[str | tuple[str, float]]) -> None:
        """A sentence family: each template equally likely; person templates sample the person by weight."""
        alts: list[str | tuple[str, float]] = []
        for k, t in enumerate(templates):
            text, weight = (t, 1.0) if isinstance(t, str) else t
            if "{" in text or "+s" in text:
                sub = f"{name}_{k}"
                self.add(sub, [(_fill(text, p, a), a["w"]) for p, a in _PERSONS.items()])
                alts.append((sub, weight))
            else:
                alts.append((text, weight))
        self.add(name, alts)

    def add_verbs(self, name: str, phrases: Iterable[str]) -> None:
        """`NAME_BASE@p`, `NAME_PAST@p`, `NAME_ING@p`, `NAME_PRES@p` from "verb rest" phrases."""
        phrases = list(phrases)
        for p, attrs in _PERSONS.items():
            for form, fn in (("BASE", None), ("PAST", _past), ("ING", _ing), ("PRES", _third)):
                alts = []
                for ph in phrases:
                    verb, _, rest = ph.partition(" ")
                    if fn is _third and not attrs["third"]:
                        v = verb
                    else:
                        v = fn(verb) if fn else verb
                    alts.append(_fill(f"{v} {rest}".strip(), p, attrs))
                self.add(f"{name}_{form}@{p}", alts)

    def finish(self) -> None:
        """Precompute sampling tables and the parse tables (lexical sets, FIRST sets, nullables)."""
        self._check_rules()
        self._cum = {}
        for name, alts in self.rules.items():
            total, cum = 0.0, []
            for _, w in alts:
                total += w
                cum.append(total)
            self._cum[name] = (cum, total)
        # lexical rules (every alternative one terminal) are parsed by a set lookup
        self._lex = {
            n: {s[0] for s, _ in a}
            for n, a in self.rules.items()
            if all(len(s) == 1 and not s[0][0].isupper() for s, _ in a)
        }
        self._first_and_nullable()

    def _check_rules(self) -> None:
        """A typo in a rule (an undefined NONTERMINAL, two words glued as one token) fails here, not in a parse."""
        for name, alts in self.rules.items():
            for seq, _ in alts:
                for item in seq:
                    if item[0].isupper() and item not in self.rules:
                        raise KeyError(f"rule {name} uses undefined {item}")
                    if not item[0].isupper() and tokenize(item) != [item]:
                        raise ValueError(f"rule {name}: {item!r} is not a single token")

    def _first_and_nullable(self) -> None:
        """Nullable rules and FIRST sets (the tokens a rule can start with) by fixpoint, to prune the parse early."""
        self._nullable: set[str] = set()
        self._first: dict[str, set[str]] = {n: set() for n in self.rules}
        changed = True
        while changed:
            changed = False
            for n, alts in self.rules.items():
                for seq, _ in alts:
                    grew, nullable = self._absorb_first(n, seq)
                    changed = changed or grew
                    if nullable and n not in self._nullable:
                        self._nullable.add(n)
                        changed = True

    def _absorb_first(self, n: str, seq: tuple[str, ...]) -> tuple[bool, bool]:
        """Add to FIRST(n) what alternative `seq` can start with; returns (FIRST(n) grew, `seq` can be empty)."""
        grew = False
        for item in seq:
            if item in self.rules:
                new = self._first[item] - self._first[n]
                if new:
                    self._first[n] |= new
                    grew = True
                if item not in self._nullable:
                    return grew, False
            else:
                if item not in self._first[n]:
                    self._first[n].add(item)
                    grew = True
                return grew, False
        return grew, True

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, rng: random.Random, symbol: str = "S") -> list[str]:
        out: list[str] = []
        stack = [symbol]
        while stack:
            sym = stack.pop()
            if sym not in self.rules:
                out.append(sym)
                continue
            cum, total = self._cum[sym]
            k = bisect.bisect_right(cum, rng.random() * total)
            seq = self.rules[sym][min(k, len(cum) - 1)][0]
            stack.extend(reversed(seq))
        return out

    # -- recognising ---------------------------------------------------------------------------
    def recognise(self, tokens: Sequence[str], symbol: str = "S") -> bool:
        n = len(tokens)
        memo: dict[tuple[str, int], frozenset[int]] = {}
        rules, lex, first, nullable = self.rules, self._lex, self._first, self._nullable

        def ends(sym: str, pos: int) -> frozenset[int]:
            if sym not in rules:
                return frozenset((pos + 1,)) if pos < n and tokens[pos] == sym else frozenset()
            key = (sym, pos)
            if key in memo:
                return memo[key]
            if sym in lex:
                res = frozenset((pos + 1,)) if pos < n and tokens[pos] in lex[sym] else frozenset()
            elif (pos >= n or tokens[pos] not in first[sym]) and sym not in nullable:
                res = frozenset()
            else:
                acc: set[int] = set()
                for seq, _ in rules[sym]:
                    cur = {pos}
                    for item in seq:
                        nxt: set[int] = set()
                        for p in cur:
                            nxt |= ends(item, p)
                        cur = nxt
                        if not cur:
                            break
                    acc |= cur
                res = frozenset(acc)
            memo[key] = res
            return res

        return n in ends(symbol, 0)


def _fill(template: str | tuple[str, float], person: str, attrs: dict) -> str | tuple[str, float]:
    """Put one person into a template: {S}, {poss}, {be}, ... and `verb+s` (-s form for he/she)."""
    if isinstance(template, tuple):
        return (_fill(template[0], person, attrs), template[1])  # type: ignore[return-value]
    p = person
    values = dict(
        attrs,
        p=p,
        S=f"SUBJ@{p}",
        SBE=f"SBE@{p}",
        SWAS=f"SWAS@{p}",
        SWILL=f"SWILL@{p}",
        SPERF=f"SPERF@{p}",
        SHAVE=f"SHAVE@{p}",
        SDONT=f"SDONT@{p}",
        SDO=f"SDO@{p}",
    )
    text = template.format_map(values)
    return " ".join(
        _third(t[:-2]) if t.endswith("+s") and attrs["third"] else t.removesuffix("+s") for t in text.split()
    )


def _subject_rules(g: _Grammar) -> None:
    """Subjects per person and the subject+auxiliary pieces that carry agreement."""
    g.add("NAME_M", _NAMES_M)
    g.add("NAME_F", _NAMES_F)
    g.add("NAME", ["NAME_M", "NAME_F"])
    g.add("REL_M", _REL_M)
    g.add("REL_F", _REL_F)
    g.add("REL_SG", ["REL_M", "REL_F"])
    g.add("REL_PL", _REL_PL)
    nps = {
        "i": [],
        "you": [],
        "we": [
            "my friends and i",
            "my family and i",
            "my wife and i",
            "my husband and i",
            "my sister and i",
            "my brother and i",
            "NAME and i",
        ],
        "they": ["my REL_PL", "the kids", "our neighbors", "NAME and NAME"],
        "he": ["my REL_M", ("NAME_M", 2.0), "our neighbor tom", "the old man next door", "my boss"],
        "she": ["my REL_F", ("NAME_F", 2.0), "our neighbor anna", "the woman next door", "my teacher"],
    }
    for p, a in _PERSONS.items():
        pron = (p, 3.0 if nps[p] else 1.0)
        np = f"SUBJNP@{p}"
        if nps[p]:
            g.add(np, nps[p])
            g.add(f"SUBJ@{p}", [pron, (np, 2.0)])
            g.add(f"SBE@{p}", [(a["cbe"], 3.0), (f"{np} {a['be']}", 2.0)])
            g.add(f"SWILL@{p}", [(a["will"], 3.0), (f"{np} will", 2.0)])
            has = "has" if a["third"] else "have"
            g.add(f"SPERF@{p}", [(a["cperf"], 3.0), (f"{np} {has}", 2.0)])
        else:
            g.add(f"SUBJ@{p}", [pron])
            g.add(f"SBE@{p}", [a["cbe"]])
            g.add(f"SWILL@{p}", [a["will"]])
            g.add(f"SPERF@{p}", [a["cperf"]])
        g.add(f"SWAS@{p}", [f"SUBJ@{p} {a['was']}"])
        g.add(f"SHAVE@{p}", [f"SUBJ@{p} {'has' if a['third'] else 'have'}"])
        g.add(f"SDONT@{p}", [f"SUBJ@{p} {'doesn' if a['third'] else 'don'}'t"])
        g.add(f"SDO@{p}", [f"{'does' if a['third'] else 'do'} SUBJ@{p}"])


def _word_rules(g: _Grammar) -> None:
    """Word classes and time expressions shared by the families."""
    g.add("CITY", _CITIES)
    g.add("COUNTRY", _COUNTRIES)
    g.add("CITY_OR_COUNTRY", ["CITY", "COUNTRY"])
    g.add("A_JOB", _a(_JOBS))
    g.add("WORKPLACE", _WORKPLACES)
    g.add("PLACE", _PLACES)
    g.add("SUBJECT", _SUBJECTS)
    g.add("ANIMALS", _ANIMALS)
    g.add("GROCERY", _GROCERIES)
    g.add("A_CLOTHES", _a(_CLOTHES) + _a(f"new {c}" for c in _CLOTHES[:12]))
    g.add("DISH", _DISHES)
    g.add("FOOD_PL", _FOOD_PL)
    g.add("SOME_FOOD", _SOME)
    g.add("LOST", _LOST)
    g.add("EVENT", _EVENTS)
    g.add("CUISINE", _CUISINES)
    g.add("DAY", _DAYS)
    g.add("DAYS", [d + "s" for d in _DAYS])
    g.add("MONTH", _MONTHS)
    g.add("NUM", _NUM_SMALL)
    g.add("HOUR", _HOURS)
    g.add("CLOCK", ["HOUR", "HOUR o'clock", "HOUR thirty", "half past HOUR", "noon", "HOUR in the morning"])
    g.add("FEEL", _FEEL)
    g.add("FEEL_ABOUT", _FEEL_ABOUT)
    g.add("HAPPY", _HAPPY)
    g.add("SAD", _SAD)
    g.add("WEATHER", _WEATHER)
    g.add("INTENS", _INTENS)
    g.add("INTENS_OPT", [("", 1.0), ("INTENS", 2.0)])
    g.add("TASTE", _TASTE)
    g.add("MEAL", ["breakfast", "lunch", "dinner"])
    g.add("SEASON", ["summer", "winter", "spring", "fall"])
    g.add(
        "TIME_PAST",
        [
            "yesterday",
            "last night",
            "last week",
            "last weekend",
            "last month",
            "last year",
            "last SEASON",
            "this morning",
            "this afternoon",
            "earlier today",
            "a few days ago",
            "NUM days ago",
            "NUM weeks ago",
            "on DAY",
            "last DAY",
            "after work",
            "after school",
            "after lunch",
            "over the weekend",
            "the other day",
            "an hour ago",
            "a week ago",
            "on DAY morning",
            "on DAY night",
        ],
    )
    g.add("TIME_PAST_OPT", [("", 2.0), ("TIME_PAST", 3.0)])
    g.add(
        "TIME_FUT",
        [
            "tomorrow",
            "tonight",
            "later",
            "later today",
            "next week",
            "next weekend",
            "this weekend",
            "this evening",
            "on DAY",
            "next DAY",
            "in a few days",
            "after work",
            "soon",
            "tomorrow morning",
            "tomorrow night",
            "on DAY afternoon",
            "this afternoon",
        ],
    )
    g.add(
        "TIME_FAR",
        [
            "next month",
            "next year",
            "next SEASON",
            "in MONTH",
            "in NUM weeks",
            "this SEASON",
            "next week",
            "in a few weeks",
            "on DAY",
            "next weekend",
        ],
    )
    g.add("TIME_FUT_OPT", [("", 2.0), ("TIME_FUT", 3.0)])
    g.add("TIME_NOW", ["today", "right now", "this morning", "tonight", "this week", "again"])
    g.add("TIME_NOW_OPT", [("", 2.0), ("TIME_NOW", 2.0)])
    g.add(
        "HABIT",
        [
            "every DAY",
            "on DAYS",
            "every morning",
            "every evening",
            "every weekend",
            "on weekends",
            "in the morning",
            "after work",
            "twice a week",
            "once a month",
            "every day",
        ],
    )


def _errands(g: _Grammar) -> None:
    """Where people go and what for: the family of "i went to the store to buy some groceries"."""
    g.add_person(
        "PURPOSE",
        [
            "the store to buy some GROCERY",
            "the store to get some GROCERY",
            "the store to pick up some GROCERY",
            "the supermarket to buy some GROCERY",
            "the grocery store to buy some GROCERY",
            "the corner store to get some GROCERY",
            "the market to buy some fresh fruit",
            "the market to buy some vegetables",
            "the farmers market to buy some GROCERY",
            "the bakery to buy some bread",
            "the bakery to buy a birthday cake",
            "the bakery to get some muffins",
            "the bakery to pick up a cake",
            "the pharmacy to pick up a prescription",
            "the pharmacy to buy some medicine",
            "the pharmacy to get some cough drops",
            "the pharmacy to buy some sunscreen",
            "the post office to mail a letter",
            "the post office to send a package",
            "the post office to buy some stamps",
            "the post office to pick up a package",
            "the bank to withdraw some money",
            "the bank to deposit a check",
            "the bank to open an account",
            "the bank to get some cash",
            "the library to return some books",
            "the library to borrow a book",
            "the library to study for the exam",
            "the library to print some papers",
            "the library to check out a few books",
            "the hardware store to buy a hammer",
            "the hardware store to buy some nails",
            "the hardware store to buy some paint",
            "the hardware store to get some light bulbs",
            "the hardware store to buy a new lock",
            "the mall to buy A_CLOTHES",
            "the mall to look for A_CLOTHES",
            "the mall to buy a birthday present",
            "the mall to buy a gift for {poss} REL_SG",
            "the gas station to get gas",
            "the gas station to buy some snacks",
            "the gas station to check the tires",
            "the barber to get a haircut",
            "the hairdresser to get a haircut",
            "the doctor to get a checkup",
            "the dentist to get a checkup",
            "the park to walk the dog",
            "the park to play soccer",
            "the park to have a picnic",
            "the park to meet some friends",
            "the park to feed the ducks",
            "the park to go for a run",
            "the gym to work out",
            "the gym to lift weights",
            "the gym to take a yoga class",
            "the beach to go swimming",
            "the beach to watch the sunset",
            "the airport to pick up {poss} REL_SG",
            "the airport to pick up {poss} REL_PL",
            "the station to meet {poss} REL_SG",
            "the station to catch the early train",
            "the cafe to get some coffee",
            "the cafe to meet a friend",
            "the cafe to grab a sandwich",
            "the office to pick up some papers",
            "the office to finish a report",
            "the school to pick up the kids",
            "the school to talk to the teacher",
            "the laundromat to wash some clothes",
            "the laundromat to do the laundry",
            "the bookstore to buy a new book",
            "the bookstore to buy a map",
            "the bookstore to buy a gift for {poss} REL_SG",
            "the pet store to buy some dog food",
            "the pet store to buy some cat food",
            "the pet store to buy a new collar",
            "the flower shop to buy some flowers",
            "the flower shop to buy some roses for {poss} REL_SG",
            "the butcher to buy some meat",
            "the butcher to get some sausages",
            "the shoe store to buy some new shoes",
            "the shoe store to buy a pair of boots",
            "the hospital to visit {poss} REL_SG",
            "the hospital to see a doctor",
            "the cinema to see a movie",
            "the theater to see a play",
            "the museum to see the new exhibit",
            "the museum to look at the paintings",
            "the zoo to see the ZOO_ANIMALS",
            "the bike shop to fix {poss} bike",
            "the car wash to wash the car",
            "the mechanic to fix the car",
        ],
    )
    g.add(
        "ERRAND_HABIT",
        [
            "on DAYS",
            "every weekend",
            "on weekends",
            "once a week",
            "once a month",
            "after work",
            "on DAY mornings",
            "every few weeks",
        ],
    )
    g.add("ZOO_ANIMALS", _ANIMALS[:14])
    g.add(
        "KIN",
        [
            "son",
            "daughter",
            "sister",
            "brother",
            "cousin",
            "niece",
            "nephew",
            "kids",
            "students",
            "team",
            "grandson",
            "granddaughter",
        ],
    )
    g.add(
        "MOVE_PAST",
        [
            "went to",
            "drove to",
            "walked to",
            "ran to",
            "hurried to",
            "headed to",
            "went down to",
            "went over to",
            "stopped at",
            "rushed to",
            "biked to",
            "took the bus to",
        ],
    )
    g.add(
        "ERRAND_TIME_PAST",
        [
            ("", 3.0),
            ("TIME_PAST", 3.0),
            "before work",
            "during lunch",
            "in the rain",
            "on the way home",
            "before dinner",
        ],
    )
    g.add_family(
        "ERRAND",
        [
            ("{S} MOVE_PAST PURPOSE@{p} ERRAND_TIME_PAST", 6.0),
            ("{SBE} going to PURPOSE@{p} TIME_FUT_OPT", 2.0),
            "{S} need+s to go to PURPOSE@{p} TIME_FUT_OPT",
            "{S} have+s to go to PURPOSE@{p} TIME_FUT_OPT",
            "{S} want+s to go to PURPOSE@{p} TIME_FUT_OPT",
            "{SWILL} go to PURPOSE@{p} TIME_FUT_OPT",
            "{S} usually go+s to PURPOSE@{p} ERRAND_HABIT",
            "{S} forgot to go to PURPOSE@{p} TIME_PAST_OPT",
            "can you go to PURPOSE@you TIME_FUT_OPT ?",
            "could you stop at PURPOSE@you on the way home ?",
            "let's go to PURPOSE@we TIME_FUT_OPT",
            "{S} stopped by PURPOSE@{p} on the way home",
        ],
    )


def _activities(g: _Grammar) -> None:
    """Things people do, in every form, for plans, habits and questions."""
    g.add(
        "SPORT",
        [
            "soccer",
            "basketball",
            "tennis",
            "chess",
            "video games",
            "cards",
            "volleyball",
            "golf",
            "baseball",
            "board games",
            "hockey",
            "ping pong",
        ],
    )
    g.add("INSTRUMENT", ["the piano", "the guitar", "the violin", "the drums", "the flute"])
    g.add(
        "GO_ING",
        [
            "swimming",
            "shopping",
            "camping",
            "hiking",
            "fishing",
            "skiing",
            "running",
            "dancing",
            "bowling",
            "skating",
            "sailing",
        ],
    )
    g.add(
        "OUTING",
        [
            "the beach",
            "the park",
            "the zoo",
            "the museum",
            "the movies",
            "a concert",
            "a party",
            "the gym",
            "the lake",
            "the mountains",
            "the city",
            "the farmers market",
            "the fair",
        ],
    )
    g.add_verbs(
        "ACT",
        [
            "watch a movie",
            "watch TV".lower(),
            "watch the game",
            "clean the house",
            "clean {poss} room",
            "clean the kitchen",
            "do the laundry",
            "do the dishes",
            "do {poss} homework",
            "cook dinner",
            "make dinner",
            "make pancakes",
            "make breakfast",
            "bake a cake",
            "bake some cookies",
            "bake bread",
            "visit {poss} grandparents",
            "visit {poss} REL_SG",
            "call {poss} REL_SG",
            "call {poss} REL_PL",
            "play SPORT",
            "play INSTRUMENT",
            "practice INSTRUMENT",
            "go GO_ING",
            "go for a walk",
            "go for a run",
            "go for a bike ride",
            "go to OUTING",
            "take a nap",
            "take a walk",
            "take the dog for a walk",
            "read a book",
            "read the paper",
            "write a letter",
            "write an email",
            "paint the fence",
            "paint the bedroom",
            "wash the car",
            "fix the sink",
            "fix {poss} bike",
            "walk the dog",
            "feed the cat",
            "water the plants",
            "mow the lawn",
            "have a picnic",
            "have lunch with NAME",
            "have dinner with NAME",
            "meet NAME for coffee",
            "meet some friends for lunch",
            "study for the SUBJECT exam",
            "study SUBJECT",
            "learn spanish",
            "learn to cook",
            "listen to music",
            "listen to the radio",
            "ride {poss} bike",
            "stay home",
            "work from home",
            "throw a party",
            "plan a trip to CITY",
            "pack for the trip",
            "buy a new car",
            "sell the old car",
            "rent a cabin by the lake",
            "move to CITY",
            "get a haircut",
            "see a movie",
            "see the doctor",
            "eat out",
            "order pizza",
            "fly to CITY",
            "drive to CITY",
            "visit CITY",
            "organize the garage",
            "plant some flowers",
            "work in the garden",
            "sleep in",
            "do some yoga",
            "go to bed early",
            "go camping with {poss} REL_PL",
            "help {poss} REL_SG move",
            "pick up the kids",
            "decorate the tree",
            "wrap the presents",
            "set the table",
            "sing in the choir",
        ],
    )


def _dialogue(g: _Grammar) -> None:
    """Quoted speech: the family of "don't worry about it, she said"."""
    g.add("ABOUT_VERB", ["think", "talk", "complain", "forget", "joke", "lie", "ask"])
    g.add("ABOUT_OBJ", [("it", 4.0), "that", "me", "us", "them", "work", "the past", "the party", "the money"])
    g.add(
        "WORRY_OBJ",
        [
            ("it", 6.0),
            "that",
            "me",
            "us",
            "them",
            "the money",
            "the mess",
            "the dishes",
            "the test",
            "the weather",
            "the rent",
            "the bill",
            "the past",
            "tomorrow",
            "work",
            "the kids",
            "the car",
            "the party",
            "the noise",
            "a thing",
            "the dog",
        ],
    )
    g.add(
        "DONT_VP",
        [
            ("worry about WORRY_OBJ", 5.0),
            ("ABOUT_VERB about ABOUT_OBJ", 3.0),
            "be late",
            "be silly",
            "be sad",
            "be so hard on yourself",
            "be afraid to ask",
            "forget your LOST",
            "forget to call me",
            "forget to lock the door",
            "forget to feed the cat",
            "forget to water the plants",
            "tell anyone",
            "touch that",
            "leave without me",
            "go anywhere",
            "eat all the cookies",
            "stay up too late",
            "make me laugh",
            "let the dog out",
            "open the door",
            "drive too fast",
            "wait for me",
            "say that",
            "look at me like that",
            "give up",
            "rush",
            "cry",
            "panic",
            "be a stranger",
        ],
    )
    g.add(
        "IMPERATIVE",
        [
            "talk to me",
            "call me later",
            "call me when you get home",
            "call me tomorrow",
            "come here",
            "come with me",
            "wait for me",
            "hurry up",
            "sit down",
            "be careful",
            "take your time",
            "take a seat",
            "help me with this",
            "tell me about your day",
            "look at this",
            "listen to me",
            "pass the salt",
            "turn off the lights",
            "close the door",
            "open the window",
            "bring an umbrella",
            "drive safely",
            "have fun",
            "get some rest",
            "put on your coat",
            "wash your hands",
            "clean your room",
            "eat your vegetables",
            "try this soup",
            "give me a minute",
            "send me a message",
            "text me later",
            "let me know when you're ready",
            "let me help you",
            "stay here",
            "come back soon",
            "keep the change",
            "say hello to your REL_SG",
            "tell your REL_SG i said hi",
            "enjoy your meal",
            "have a nice day",
            "sleep well",
            "go to bed",
            "get in the car",
            "grab your LOST",
            "follow me",
            "slow down",
            "turn it down",
            "look out",
        ],
    )
    g.add(
        "QUOTE",
        [
            ("don't DONT_VP", 6.0),
            ("IMPERATIVE", 4.0),
            ("please IMPERATIVE", 1.0),
            ("let's ACT_BASE@we", 2.0),
            "i'm INTENS FEEL",
            "i'm on my way",
            "i'll be right back",
            "i'll be there in NUM minutes",
            "it's not your fault",
            "it's fine",
            "it's okay",
            "it's getting late",
            "it's time for MEAL",
            "it's time for bed",
            "it's time to go",
            "i can't find my LOST",
            "i can't believe it",
            "i don't know",
            "i don't want to go",
            "i love this song",
            "i miss you",
            "we should go home",
            "we need to talk",
            "we're out of GROCERY",
            "MEAL is ready",
            "the food is ready",
            "thank you so much",
            "thanks for everything",
            "see you tomorrow",
            "see you later",
            "see you on DAY",
            "good morning",
            "good night",
            "happy birthday",
            "welcome home",
            "nice to meet you",
            "i'm sorry i'm late",
            "that sounds great",
            "that sounds like fun",
            "that's a great idea",
            "what a beautiful day",
            "let's go",
            "let's get something to eat",
            "i think it's going to rain",
            "i'm so proud of you",
            "you look great",
            "i'm not hungry",
            "i have to go",
            "it was nice to see you",
            "this is delicious",
            "i'll call you tomorrow",
            "it's cold outside",
            "the bus is late again",
            "we're going to be late",
            "i love you",
            "i need a break",
            "we did it",
            "no problem",
            "of course",
            "maybe later",
            "good luck",
            "i knew it",
            "not today",
            "me too",
            "i forgot my LOST",
            "i'll think about it",
            "i'm home",
        ],
    )
    g.add(
        "SAYER",
        [
            ("she said", 6.0),
            ("he said", 6.0),
            ("they said", 3.0),
            "i said",
            ("NAME said", 2.0),
            "my mom said",
            "my dad said",
            "the teacher said",
            "the doctor said",
            "my REL_SG said",
            "she told me",
            "he told me",
            "she told us",
            "he told us",
            "she replied",
            "he replied",
            "she whispered",
            "he whispered",
            "she shouted",
            "he shouted",
            "she said with a smile",
            "he said quietly",
            "she said again",
            "he added",
            "she laughed",
            "the waiter said",
            "my boss said",
            "our neighbor said",
        ],
    )
    g.add(
        "ASKER",
        [
            ("she asked", 5.0),
            ("he asked", 5.0),
            ("they asked", 2.0),
            ("NAME asked", 2.0),
            "my mom asked",
            "my dad asked",
            "the teacher asked",
            "the waiter asked",
            "the kids asked",
            "she asked me",
            "he asked me",
            "she asked again",
            "he asked quietly",
            "my REL_SG asked",
            "the driver asked",
        ],
    )
    g.add(
        "REPORTED",
        [
            "SWAS@i INTENS_OPT FEEL",
            "SWAS@she INTENS_OPT FEEL",
            "SWAS@he INTENS_OPT FEEL",
            "SWAS@they INTENS_OPT FEEL",
            "SWAS@we INTENS_OPT FEEL",
            "the PLACE was closed",
            "the PLACE was open",
            "the PLACE was crowded",
            "it was going to rain",
            "it was going to snow TIME_FUT_OPT",
            "the bus was late",
            "the train was delayed",
            "the flight was canceled",
            "MEAL was ready",
            "SWILL@he be late",
            "SWILL@she be late",
            "SWILL@they be home soon",
            "SWILL@she call later",
            "SWILL@he call later",
            "everything was fine",
            "the food was TASTE",
            "the test was easy",
            "the test was hard",
            "the movie was MOVIE_ADJ",
            "the party was fun",
        ],
    )
    g.add(
        "DIALOGUE",
        [
            ("QUOTE , SAYER", 8.0),
            ("QUESTION ? ASKER", 4.0),
            ("REPORTER that REPORTED", 1.5),
        ],
    )


def _questions(g: _Grammar) -> None:
    """Questions, used alone (with "?") and in dialogue ("... ? he asked")."""
    g.add(
        "QUESTION",
        [
            "where are you going",
            "where are you",
            "where did you go TIME_PAST",
            "where do you want to eat",
            "where is the PLACE",
            "where did you put my LOST",
            "where did you buy A_CLOTHES",
            "what time is it",
            "what time does the OPEN_PLACE open",
            "what time does the OPEN_PLACE close",
            "what time does the SHOW start",
            "what time does the train leave",
            "what are you doing TIME_FUT",
            "what did you do TIME_PAST",
            "what do you want for MEAL",
            "what should we have for MEAL",
            "what's wrong",
            "what's for dinner",
            "what happened",
            "what did the doctor say",
            "what do you think",
            "what are you reading",
            "what's the weather like in CITY",
            "how was your day",
            "how was your weekend",
            "how was your trip",
            "how was your flight",
            "how was the SHOW",
            "how was EVENT",
            "how are you",
            "how are you feeling TIME_NOW_OPT",
            "how much is A_CLOTHES",
            "how long will it take",
            "how do you like CITY",
            ("do you want to ACT_BASE@you TIME_FUT_OPT", 3.0),
            "do you want some SOME_FOOD",
            "would you like some SOME_FOOD",
            ("would you like to ACT_BASE@you TIME_FUT_OPT", 2.0),
            "can you help me with HELP_OBJ",
            "can you pass the CONDIMENT",
            "can you pick up some GROCERY",
            ("did you ACT_BASE@you TIME_PAST_OPT", 2.0),
            "have you ever been to CITY_OR_COUNTRY",
            "have you seen my LOST",
            "have you finished your homework",
            "are you INTENS_OPT FEEL",
            "are you ready",
            "are you coming to PARTY",
            "is it going to rain TIME_FUT_OPT",
            "is it going to snow TIME_FUT_OPT",
            "is the OPEN_PLACE open on DAY",
            "is NAME coming with us",
            "why are you so FEEL",
            "why is the PLACE so crowded",
            "who is coming to the party",
            "who wants some SOME_FOOD",
            "when is your birthday",
            "when are we leaving",
            "when does the train leave",
            "when does the SHOW start",
            "could you turn off the lights",
            "could you close the window",
            "can i have some SOME_FOOD",
            "can i borrow your LOST",
            "is everything okay",
            "are you hungry",
            "are we there yet",
            "what are we having for dinner",
            "did you have fun",
            ("{SDO} like FOOD_PL", 2.0),
            ("{SDO} want to ACT_BASE@{p} TIME_FUT_OPT", 2.0),
            ("is SUBJ@he coming with us", 0.5),
            ("is SUBJ@she coming with us", 0.5),
            ("where {was} SUBJ@{p} TIME_PAST", 1.0),
            ("{SDO} work at the WORKPLACE", 1.0),
            ("did SUBJ@{p} ACT_BASE@{p} TIME_PAST_OPT", 2.0),
        ],
    )
    g.add(
        "HELP_OBJ",
        [
            "my homework",
            "the dishes",
            "this box",
            "the groceries",
            "the laundry",
            "dinner",
            "the bags",
            "my suitcase",
            "this letter",
            "the garden",
        ],
    )
    g.add("CONDIMENT", ["salt", "pepper", "butter", "bread", "sugar", "ketchup", "milk", "water"])
    g.add("SHOW", ["movie", "game", "concert", "play", "show", "class", "meeting", "match", "parade"])
    # expand the person templates among the questions
    qs = []
    for seq, w in g.rules.pop("QUESTION"):
        text = " ".join(seq)
        if "{" in text:
            qs.extend((_fill(text, p, a), w * a["w"] / 2.0) for p, a in _PERSONS.items() if p not in ("i", "we"))
        else:
            qs.append((text, w))
    g.add("QUESTION", qs)  # type: ignore[arg-type]
    g.add("ASK", ["QUESTION ?"])


def _families(g: _Grammar) -> None:
    """The other sentence families, one theme per function, so that a theme can be read and changed on its own."""
    _feelings(g)
    _shared_words(g)
    _weather(g)
    _places(g)
    _plans(g)
    _food(g)
    _work(g)
    _school(g)
    _family_life(g)
    _travel(g)
    _clock_talk(g)


def _feelings(g: _Grammar) -> None:
    """Feelings and moods: "i was so happy when my sister called"."""
    g.add(
        "GOOD_EVENT",
        [
            "my REL_SG called",
            "NAME came home",
            "the package arrived",
            "we won the game",
            "i got the job",
            "the rain stopped",
            "the baby smiled",
            "the results came out",
            "we finally got home",
            "my REL_PL came to visit",
            "the sun came out",
            "the school year ended",
            "i passed the test",
            "we found the dog",
        ],
    )
    g.add(
        "BAD_EVENT",
        [
            "the game ended",
            "the summer ended",
            "the movie ended",
            "we lost the game",
            "the bus left without us",
            "the store was closed",
            "the power went out",
            "it started to rain",
            "the flight was canceled",
            "my REL_SG moved away",
            "the dog ran away",
            "i lost my LOST",
            "the party was canceled",
            "nobody called",
        ],
    )
    g.add(
        "AFTER",
        [
            "the long drive",
            "the game",
            "the party",
            "work",
            "school",
            "the exam",
            "the trip",
            "the long flight",
            "dinner",
            "the hike",
            "the workout",
            "the meeting",
            "a good night's sleep",
            "a hot shower",
            "a long walk",
            "a cup of coffee",
            "lunch",
        ],
    )
    g.add(
        "FELT",
        [
            "tired",
            "sleepy",
            "hungry",
            "happy",
            "sad",
            "sick",
            "better",
            "great",
            "relieved",
            "exhausted",
            "proud",
            "lonely",
            "much better",
            "a lot better",
            "calm",
            "sore",
            "full",
        ],
    )
    g.add("FELT_TIRED", ["tired", "sleepy", "hungry", "exhausted", "sore", "thirsty", "worn out"])
    g.add(
        "TIRING",
        [
            "the long drive",
            "the game",
            "the trip",
            "the long flight",
            "the hike",
            "the workout",
            "work",
            "school",
            "the exam",
            "the meeting",
            "the party",
            "the move",
            "the race",
        ],
    )
    g.add("FELT_GOOD", ["better", "much better", "a lot better", "great", "relieved", "calm", "full", "warm"])
    g.add(
        "RESTFUL",
        [
            "a good night's sleep",
            "a hot shower",
            "a long walk",
            "a cup of coffee",
            "lunch",
            "dinner",
            "a nap",
            "a hot bath",
            "a short break",
            "the weekend",
        ],
    )
    g.add_family(
        "FEELINGS",
        [
            ("{SBE} INTENS_OPT FEEL TIME_NOW_OPT", 3.0),
            ("{SWAS} INTENS_OPT FEEL TIME_PAST_OPT", 3.0),
            ("{SBE} INTENS_OPT FEEL_ABOUT about EVENT", 2.0),
            ("{SWAS} INTENS_OPT FEEL_ABOUT about EVENT", 2.0),
            "{S} felt FELT_TIRED after TIRING",
            "{S} felt FELT_GOOD after RESTFUL",
            "{S} feel+s FELT TIME_NOW_OPT",
            "{SWAS} INTENS_OPT HAPPY when GOOD_EVENT",
            "{SWAS} INTENS_OPT SAD when BAD_EVENT",
            "{S} miss+s {poss} REL_SG",
            "{S} miss+s {poss} REL_PL",
            "{S} miss+s CITY_OR_COUNTRY",
            "{SBE} so proud of {poss} KIN",
            "i'm sorry about EVENT",
            "i'm glad you came",
            "{S} couldn't sleep last night",
            "{SBE} in a good mood TIME_NOW_OPT",
            "{SBE} in a bad mood TIME_NOW_OPT",
            "{S} didn't feel well TIME_PAST_OPT",
        ],
    )


def _shared_words(g: _Grammar) -> None:
    """Word classes used by several families and by the dialogue (films, parties, opening hours, reporters)."""
    g.add("MOVIE_ADJ", ["good", "really good", "boring", "funny", "too long", "great", "scary", "sad"])
    g.add(
        "PARTY",
        [
            "the party",
            "the wedding",
            "the game",
            "the concert",
            "the meeting",
            "the show",
            "the race",
            "dinner",
            "the picnic",
            "the parade",
            "the barbecue",
        ],
    )
    g.add(
        "OPEN_PLACE",
        [
            "store",
            "supermarket",
            "bakery",
            "pharmacy",
            "post office",
            "bank",
            "library",
            "museum",
            "gym",
            "mall",
            "cafe",
            "restaurant",
            "pool",
            "market",
            "bookstore",
            "hardware store",
            "zoo",
            "laundromat",
            "coffee shop",
            "pizza place",
            "city hall",
        ],
    )
    g.add(
        "REPORTER",
        [
            ("she said", 4.0),
            ("he said", 4.0),
            ("they said", 2.0),
            "NAME said",
            "my mom said",
            "she told me",
            "he told us",
            "the teacher said",
            "the doctor said",
            "my REL_SG said",
            "she replied",
            "he added",
            "the waiter said",
            "our neighbor said",
            "she explained",
            "the news said",
            "my boss said",
        ],
    )


def _weather(g: _Grammar) -> None:
    """Weather talk: "it's going to rain tomorrow"."""
    g.add("WEATHER_DAY", ["today", "this morning", "outside", "tonight", "in CITY", "all week", "this week", ""])
    g.add_family(
        "WEATHER_S",
        [
            ("it's INTENS_OPT WEATHER WEATHER_DAY", 3.0),
            ("it was INTENS_OPT WEATHER TIME_PAST_OPT", 3.0),
            "it's raining TIME_NOW_OPT",
            "it's snowing TIME_NOW_OPT",
            "it rained all day",
            "it rained all night",
            "it rained TIME_PAST",
            "it snowed TIME_PAST",
            ("it's going to rain TIME_FUT_OPT", 2.0),
            "it's going to snow TIME_FUT_OPT",
            "it might rain TIME_FUT",
            "it looks like rain",
            "the sun is shining",
            "the sun came out after lunch",
            "there was a big storm TIME_PAST",
            "there's a lot of snow on the road",
            "the weather is INTENS_OPT WEATHER TIME_NOW_OPT",
            "the weather was INTENS_OPT WEATHER in CITY",
            "the weather was INTENS_OPT WEATHER TIME_PAST",
            "it's too cold to go outside",
            "it's too hot to go outside",
            "{S} stayed inside because it was raining",
            "take an umbrella , it's going to rain",
            "the roads were icy this morning",
            "what a beautiful day",
            "it's a lovely day for a walk",
            "the wind was really strong TIME_PAST_OPT",
            "it's been raining all week",
            "it's supposed to be WEATHER TIME_FUT",
            "it's freezing in here",
            "we had a lot of snow this winter",
            "it was the hottest day of the year",
            "{S} got caught in the rain TIME_PAST_OPT",
        ],
    )


def _places(g: _Grammar) -> None:
    """Places in town and how busy they are: "the bakery is closed on sundays"."""
    g.add("NEAR", ["next to", "across from", "near", "behind", "close to", "around the corner from"])
    g.add("A_NEW_PLACE", _a(f"{adj} {p}" for adj in ("new", "little", "nice", "big") for p in _PLACES[:24]))
    g.add_family(
        "PLACES",
        [
            ("the OPEN_PLACE is closed on DAYS", 2.0),
            "the OPEN_PLACE opens at CLOCK",
            "the OPEN_PLACE closes at CLOCK",
            ("there's A_NEW_PLACE near {poss} house", 2.0),
            "there's A_NEW_PLACE downtown",
            ("the PLACE is NEAR the PLACE", 2.0),
            "{S} live+s near the PLACE",
            "{S} live+s on a quiet street",
            "{S} live+s in a small town",
            "{S} live+s in CITY",
            "the PLACE was INTENS_OPT CROWD TIME_PAST_OPT",
            "the PLACE is always CROWD on DAYS",
            "{poss} house is close to the PLACE",
            "{S} met {poss} REL_SG at the PLACE",
            "{S} waited for NAME at the PLACE",
            "we got lost on the way to the PLACE",
            "{S} walk+s past the PLACE HABIT",
            "the new PLACE is INTENS_OPT CROWD",
            "{S} used to work at the WORKPLACE",
        ],
    )
    g.add("CROWD", ["crowded", "busy", "quiet", "empty", "packed", "noisy", "full"])


def _plans(g: _Grammar) -> None:
    """Plans, habits and past activities, built on the ACT verb forms."""
    g.add_family(
        "PLANS",
        [
            ("{SBE} going to ACT_BASE@{p} TIME_FUT_OPT", 3.0),
            ("{SWILL} ACT_BASE@{p} TIME_FUT", 2.0),
            ("{S} want+s to ACT_BASE@{p} TIME_FUT_OPT", 2.0),
            "{SBE} planning to ACT_BASE@{p} TIME_FAR",
            "let's ACT_BASE@we TIME_FUT_OPT",
            "maybe we can ACT_BASE@we TIME_FUT",
            ("{SBE} ACT_ING@{p} TIME_FUT", 2.0),
            ("{S} ACT_PAST@{p} TIME_PAST", 4.0),
            "{S} didn't ACT_BASE@{p} TIME_PAST",
            ("{S} usually ACT_PRES@{p} HABIT", 2.0),
            "{SBE} ACT_ING@{p} right now",
            "{S} had to ACT_BASE@{p} TIME_PAST",
            "{S} forgot to ACT_BASE@{p}",
            "{S} would like to ACT_BASE@{p} TIME_FUT_OPT",
            "{S} decided to ACT_BASE@{p} TIME_PAST_OPT",
            "{SWAS} too tired to ACT_BASE@{p}",
            "{S} can't ACT_BASE@{p} TIME_FUT",
            "after MEAL {S} ACT_PAST@{p}",
            "{SBE} thinking about ACT_ING@{p} TIME_FUT_OPT",
            "{S} like+s to ACT_BASE@{p} HABIT",
            "{SPERF} never ACT_PP@{p}",
        ],
    )


def _food(g: _Grammar) -> None:
    """Meals and tastes: "the soup was too salty"."""
    g.add_family(
        "FOOD",
        [
            ("{S} had DISH for MEAL TIME_PAST_OPT", 3.0),
            ("{S} made DISH for MEAL", 2.0),
            "{S} made DISH for {poss} REL_PL",
            "{S} cooked DISH for MEAL",
            ("{S} love+s FOOD_PL", 2.0),
            "{S} like+s FOOD_PL",
            "{S} hate+s FOOD_PL",
            "{SDONT} like FOOD_PL",
            "the DISH_DEF was TASTE",
            "the DISH_DEF is TASTE",
            "{S} ate at a little CUISINE restaurant TIME_PAST",
            "we ate at that new CUISINE restaurant downtown",
            "{SBE} making DISH for MEAL",
            "{SBE} making DISH TIME_FUT",
            "there's some SOME_FOOD in the fridge",
            "we're out of GROCERY",
            "we need more GROCERY",
            "i'm so hungry , let's order pizza",
            "{S} drink+s coffee every morning",
            "{S} drank too much coffee TIME_NOW_OPT",
            "{S} had a cup of tea before bed",
            "{S} love+s CUISINE food",
            "{S} ordered DISH and a glass of wine",
            "{S} skipped breakfast TIME_PAST_OPT",
            "dinner is almost ready",
            "the restaurant was full , so {S} went home",
            "{S} brought DISH to the party",
            "{S} learned to make DISH from {poss} REL_SG",
            "lunch was TASTE",
        ],
    )
    g.add(
        "DISH_DEF",
        [
            "soup",
            "pizza",
            "pasta",
            "cake",
            "bread",
            "coffee",
            "tea",
            "curry",
            "salad",
            "chicken",
            "fish",
            "steak",
            "pie",
            "sauce",
            "food",
            "lasagna",
            "stew",
            "rice",
        ],
    )


def _work(g: _Grammar) -> None:
    """Jobs, meetings and the office."""
    g.add(
        "TASK",
        [
            "finish the report",
            "call the client",
            "work on saturday",
            "stay late",
            "write an email",
            "prepare a presentation",
            "answer some emails",
            "fix the printer",
            "train the new guy",
            "meet the new client",
            "check the numbers",
            "clean up the office",
            "update the website",
        ],
    )
    g.add_family(
        "WORK",
        [
            ("{S} work+s as A_JOB", 3.0),
            "{S} work+s at the WORKPLACE",
            ("{S} got a job as A_JOB", 2.0),
            "{S} want+s to be A_JOB",
            "{S} got a new job at the WORKPLACE",
            "{SHAVE} a meeting at CLOCK",
            "{SHAVE} a meeting at CLOCK TIME_FUT",
            "{S} worked late TIME_PAST",
            "{S} worked from home TIME_PAST",
            "{S} stayed late at the office TIME_PAST",
            "my boss asked me to TASK",
            "my boss wants me to TASK",
            "{SHAVE} to TASK by DAY",
            "{SHAVE} to TASK TIME_FUT",
            "{SBE} running late for work",
            "{SBE} running late for the meeting",
            "{SBE} so busy at work TIME_NOW_OPT",
            "{S} took the day off TIME_PAST",
            "{S} called in sick TIME_PAST",
            "the meeting was INTENS_OPT long",
            "the meeting was moved to DAY",
            "the meeting was canceled",
            "{S} started a new job TIME_PAST",
            "{S} quit {poss} job TIME_PAST",
            "{S} used to be A_JOB",
            "{S} finished work early TIME_PAST",
            "{S} take+s the bus to work",
            "{S} drive+s to work HABIT",
            "{S} forgot to TASK",
            "{S} had to TASK TIME_PAST",
        ],
    )


def _school(g: _Grammar) -> None:
    """School subjects, exams and homework."""
    g.add("STUDY_EXAM", ["test", "exam", "quiz", "final"])
    g.add("GOOD_INT", ["", "really", "pretty", "very"])
    g.add(
        "TOPIC",
        [
            "the solar system",
            "volcanoes",
            "ancient rome",
            "fractions",
            "the weather",
            "plants",
            "ANIMALS",
            "the moon",
            "dinosaurs",
            "the ocean",
            "electricity",
            "the human body",
            "the stars",
            "ancient egypt",
            "rivers",
            "insects",
            "the seasons",
        ],
    )
    g.add("EXAM", ["test", "exam", "quiz", "class", "project", "presentation"])
    g.add_family(
        "SCHOOL",
        [
            ("{S} studied SUBJECT TIME_PAST", 2.0),
            "{S} studied for the SUBJECT STUDY_EXAM TIME_PAST_OPT",
            "{S} studied all weekend for the SUBJECT exam",
            ("{SHAVE} A_SUBJECT_EXAM on DAY", 2.0),
            "{SHAVE} A_SUBJECT_EXAM TIME_FUT",
            "the teacher gave us a lot of homework",
            "the teacher gave us a pop quiz",
            "the SUBJECT test was INTENS_OPT hard",
            "{S} got a good grade on {poss} SUBJECT EXAM",
            "{S} failed {poss} SUBJECT EXAM",
            "we learned about TOPIC in SUBJECT class",
            "{S} forgot {poss} homework at home",
            "{S} walked to school with {poss} friends",
            "school starts at CLOCK",
            "school starts in MONTH",
            "school was canceled because of the snow",
            "my REL_KID started GRADE GRADE_TIME",
            "{SBE} GOOD_INT good at SUBJECT",
            "{SBE} not very good at SUBJECT",
            "{S} like+s SUBJECT",
            "my favorite subject is SUBJECT",
            "{S} want+s to study SUBJECT in college",
            "{S} read a book about TOPIC",
            "the kids are learning about TOPIC",
            "{S} missed the bus to school",
            "{S} did {poss} homework after school",
            "{S} left {poss} backpack at school",
        ],
    )
    g.add("A_SUBJECT_EXAM", [f"{_article(s)} {s} EXAM" for s in _SUBJECTS])
    g.add("GRADE_TIME", ["last year", "this fall", "in september", "last week", "this year", "last fall"])
    g.add("GRADE", ["kindergarten", "first grade", "middle school", "high school", "college", "a new school"])


def _family_life(g: _Grammar) -> None:
    """Relatives, visits, weddings, babies and birthdays."""
    g.add(
        "REL_WED",
        [
            "sister",
            "brother",
            "cousin",
            "aunt",
            "uncle",
            "daughter",
            "son",
            "best friend",
            "niece",
            "nephew",
            "roommate",
        ],
    )
    g.add("REL_BABY", ["sister", "brother", "cousin", "aunt", "daughter", "son", "best friend", "neighbor"])
    g.add(
        "REL_KID",
        ["son", "daughter", "niece", "nephew", "little brother", "little sister", "grandson", "granddaughter"],
    )
    g.add("AGE_KID", ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])
    g.add("REL_OLD", ["grandma", "grandpa", "dad", "mom", "aunt", "uncle", "boss", "father", "mother"])
    g.add("AGE_OLD", ["forty", "fifty", "sixty", "seventy", "eighty", "ninety", "thirty"])
    g.add(
        "SKILL",
        [
            "cook",
            "bake bread",
            "ride a bike",
            "swim",
            "drive",
            "play INSTRUMENT",
            "play SPORT",
            "fish",
            "knit",
            "sew",
            "paint",
            "dance",
            "ski",
            "make DISH_DEF",
            "tie a tie",
            "change a tire",
        ],
    )
    g.add_family(
        "FAMILY_S",
        [
            ("my REL_SG came to visit TIME_PAST", 2.0),
            "my REL_SG is coming to visit TIME_FAR",
            "my REL_PL came to visit TIME_PAST",
            "{SBE} having dinner with {poss} REL_PL TIME_FUT",
            "my REL_WED is getting married in MONTH",
            "my REL_WED is getting married next SEASON",
            "my REL_BABY just had a baby",
            "my REL_BABY just had a baby girl",
            "my REL_BABY just had a baby boy",
            "my REL_PL live in CITY",
            "my REL_SG lives in CITY",
            "{S} look+s just like {poss} REL_SG",
            "my REL_KID is AGE_KID years old",
            "my REL_KID turned AGE_KID TIME_PAST",
            "my REL_OLD turns AGE_OLD TIME_FAR",
            "my REL_OLD turned AGE_OLD TIME_PAST",
            "{S} spent the holidays with {poss} REL_PL",
            "the kids are playing in the yard",
            "the baby is sleeping",
            "the baby finally fell asleep",
            "our family went to CITY for the holidays",
            "{S} called {poss} REL_SG TIME_PAST",
            "{S} visited {poss} REL_PL TIME_PAST",
            "my REL_SG and i went to CITY TIME_PAST",
            "{S} grew up in CITY",
            "{S} talk+s to {poss} REL_SG every day",
            "my REL_SG is A_JOB",
            "my REL_SG works at the WORKPLACE",
            "{S} had dinner with {poss} REL_PL",
            "my REL_SG taught me how to SKILL",
            "my REL_SG makes the best DISH_DEF",
        ],
    )


def _travel(g: _Grammar) -> None:
    """Trips, flights, hotels and luggage."""
    g.add("TRANSPORT", ["flight", "train", "bus", "ferry"])
    g.add(
        "HOW_LONG",
        [
            "NUM days",
            "a week",
            "the weekend",
            "the summer",
            "work",
            "a few days",
            "NUM weeks",
            "a month",
            "the holidays",
        ],
    )
    g.add(
        "STAY_NEAR",
        [
            "the beach",
            "the station",
            "the old town",
            "the airport",
            "the river",
            "the park",
            "the museum",
            "the lake",
            "the city center",
        ],
    )
    g.add_family(
        "TRAVEL",
        [
            ("{S} flew to CITY TIME_PAST", 2.0),
            "{S} flew to CITY in MONTH",
            "{S} took the train to CITY TIME_PAST_OPT",
            "{S} drove to CITY TIME_PAST",
            ("{SBE} flying to CITY TIME_FAR", 2.0),
            ("{SBE} going to CITY_OR_COUNTRY for HOW_LONG", 2.0),
            "the TRANSPORT was delayed",
            "the TRANSPORT was canceled",
            "the TRANSPORT was late again",
            "the TRANSPORT was full",
            "the TRANSPORT left on time",
            "our TRANSPORT leaves at CLOCK",
            "our TRANSPORT leaves at CLOCK TIME_FUT",
            ("{SPERF} never been to CITY_OR_COUNTRY", 2.0),
            "we stayed in a small hotel near STAY_NEAR",
            "{S} stayed with {poss} REL_PL in CITY",
            "{S} visited CITY_OR_COUNTRY TIME_PAST",
            "{S} visited CITY_OR_COUNTRY in MONTH",
            "{S} lost {poss} BAGGAGE at the airport",
            "{S} packed {poss} BAGGAGE TIME_PAST",
            "the trip to CITY was INTENS_OPT TRIP_ADJ",
            "the trip to CITY was TRIP_GREAT",
            "we missed the last TRANSPORT",
            "i'd love to visit CITY_OR_COUNTRY someday",
            "{S} want+s to travel to CITY_OR_COUNTRY someday",
            "we went to CITY_OR_COUNTRY for our honeymoon",
            "{S} went to CITY_OR_COUNTRY TIME_PAST",
            "{S} just got back from CITY_OR_COUNTRY",
            "{S} took a lot of pictures in CITY",
            "{SBE} staying in CITY for HOW_LONG",
            "{S} rented a car in CITY",
            "{S} fell asleep on the TRANSPORT",
        ],
    )
    g.add("BAGGAGE", ["passport", "suitcase", "luggage", "ticket", "bags", "camera"])
    g.add("TRIP_ADJ", ["long", "short", "tiring", "fun", "expensive", "relaxing", "boring", "exciting"])
    g.add("TRIP_GREAT", ["amazing", "great", "wonderful", "too short", "a lot of fun", "a disaster"])


def _clock_talk(g: _Grammar) -> None:
    """Clock times and being late: "i'll be there in five minutes"."""
    g.add_family(
        "TIME_S",
        [
            "it's already CLOCK",
            "it's almost CLOCK",
            "i'll see you in NUM minutes",
            "i'll be back in NUM minutes",
            "we have NUM minutes left",
            "the movie starts at CLOCK",
            "dinner is at CLOCK",
            "{S} woke up at CLOCK TIME_PAST_OPT",
            "{S} got up early TIME_PAST",
            "{S} went to bed late TIME_PAST",
            "{S} usually get+s up at CLOCK",
            "{SBE} always late",
            "{S} got home at CLOCK",
            "{S} waited for NUM hours",
            "the store is open until CLOCK",
            "it took NUM hours to get there",
            "{SWAS} NUM minutes late",
            "{SWILL} be there in NUM minutes",
            "{SWILL} be home at CLOCK",
        ],
    )


def _add_pp(g: _Grammar) -> None:
    """Past participles for "i've never ..." (a short list: only experiences read naturally)."""
    for p, a in _PERSONS.items():
        g.add(
            f"ACT_PP@{p}",
            [
                _fill(t, p, a)
                for t in (
                    "been to CITY_OR_COUNTRY",
                    "seen the ocean",
                    "eaten sushi",
                    "ridden a horse",
                    "flown in a plane",
                    "played SPORT",
                    "baked bread",
                    "tried CUISINE food",
                    "seen snow",
                    "been skiing",
                    "been camping",
                    "met {poss} REL_SG",
                    "read that book",
                    "driven a truck",
                    "worked at the WORKPLACE",
                )
            ],
        )


@lru_cache(maxsize=1)
def _grammar() -> _Grammar:
    """The one grammar, built once (about a thousand rules with person variants)."""
    g = _Grammar()
    _subject_rules(g)
    _word_rules(g)
    _activities(g)
    _add_pp(g)
    _errands(g)
    _questions(g)
    _dialogue(g)
    _families(g)
    g.add(
        "S",
        [
            ("ERRAND", 14.0),
            ("DIALOGUE", 16.0),
            ("ASK", 7.0),
            ("FEELINGS", 8.0),
            ("WEATHER_S", 6.0),
            ("PLACES", 5.0),
            ("PLANS", 10.0),
            ("FOOD", 7.0),
            ("WORK", 6.0),
            ("SCHOOL", 6.0),
            ("FAMILY_S", 6.0),
            ("TRAVEL", 6.0),
            ("TIME_S", 3.0),
        ],
    )
    g.finish()
    return g


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """`n` distinct sentences from the grammar, in sampling order (same seed, same list).

    Draws that fall outside `MIN_TOKENS`..`MAX_TOKENS` tokens are drawn again.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    g = _grammar()
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 50 * n + 1000:
            raise RuntimeError(f"the grammar gave only {len(out)} distinct sentences in {tries} draws")
        toks = g.sample(rng)
        if not MIN_TOKENS <= len(toks) <= MAX_TOKENS:
            continue
        s = detokenize(toks)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def is_grammar_sentence(sentence: str | Sequence[str]) -> bool:
    """Whether the grammar can derive this sentence (within 3..20 tokens); scores decoded text.

    A real parse, not a lookup: any derivable sentence counts, sampled or not. Case and spacing
    around punctuation do not matter ("Don't worry about it , she said" counts).
    """
    tokens = tokenize(sentence) if isinstance(sentence, str) else [t.lower() for t in sentence]
    if not MIN_TOKENS <= len(tokens) <= MAX_TOKENS:
        return False
    return _grammar().recognise(tokens)


def build_corpus(out_dir: Path | None = None, n: int = 24000, seed: int = 0) -> Path:
    """Write `sentences.txt` and `split.json` (2% held out, seeded) into `out_dir`; same bytes every run.

    Default `out_dir` is `data/corpus`. Returns the folder.
    """
    folder = Path(out_dir) if out_dir is not None else data_dir() / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    sentences = generate_sentences(n, seed=seed)
    n_test = max(1, round(TEST_FRACTION * n)) if n > 1 else 0
    test = sorted(random.Random(seed + 1).sample(range(n), n_test))
    (folder / "sentences.txt").write_bytes(("\n".join(sentences) + "\n").encode("utf-8"))
    write_split(folder / "split.json", test)
    return folder
