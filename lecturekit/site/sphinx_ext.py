"""The Sphinx extension of the course site: on every page a language switch (the same page in the other
editions), and on a notebook's page "Open in Colab" and "Download this notebook"; the site's style sheet.

Settings (written by `site.build` into each edition's conf.py): `lk_edition` (its language),
`lk_solutions` (the instructors' edition), `lk_pages` ({page name: the notebook's path in the repository}).
"""

from __future__ import annotations

import html
from typing import Any

from lecturekit.colab import colab_url
from lecturekit.i18n import LANGUAGE_NAMES, LANGUAGES, N_, translate

OPEN_IN_COLAB = N_("Open in Colab")
DOWNLOAD = N_("Download this notebook")
LANGUAGE = N_("Language")


def language_links(page: str, edition: str) -> list[dict[str, Any]]:
    """The same page in every edition: [{lang, name, href, current}] (editions are sibling folders)."""
    depth = page.count("/")
    up = "../" * (depth + 1)
    return [
        {"lang": lang, "name": LANGUAGE_NAMES[lang], "href": f"{up}{lang}/{page}.html", "current": lang == edition}
        for lang in LANGUAGES
    ]


def language_switch(page: str, lang: str) -> str:
    """The same page in the three editions: links, the current one in bold."""
    links = " · ".join(
        f'<strong lang="{link["lang"].replace("_", "-")}">{link["name"]}</strong>'
        if link["current"]
        else f'<a class="lk-lang-link" href="{link["href"]}" hreflang="{link["lang"].replace("_", "-")}"'
        f' lang="{link["lang"].replace("_", "-")}">{link["name"]}</a>'
        for link in language_links(page, lang)
    )
    return f'<nav class="lk-languages" aria-label="{html.escape(translate(LANGUAGE, lang))}">{links}</nav>'


def page_bar(page: str, config: Any) -> str:
    """The bar at the top of a page: the language switch, and for a notebook Colab and download links."""
    lang = config.lk_edition
    parts = [language_switch(page, lang)]
    source = config.lk_pages.get(page)
    if source:
        name = source.rsplit("/", 1)[-1]
        parts.append(
            f'<span class="lk-notebook-links"><a class="lk-colab" href="{html.escape(colab_url(source))}" '
            f'target="_blank" rel="noopener">{html.escape(translate(OPEN_IN_COLAB, lang))}</a> · '
            f'<a class="lk-download" href="_notebooks/{html.escape(name)}" download="{html.escape(name)}">'
            f"{html.escape(translate(DOWNLOAD, lang))}</a></span>"
        )
    return f'<div class="lk-page-bar">{"".join(parts)}</div>'


def _page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    context["lk_languages_html"] = (
        f'<div class="lk-sidebar-languages">{language_switch(pagename, app.config.lk_edition)}</div>'
    )
    if "body" in context:  # a page made from a document (not search.html, genindex.html): the bar on top
        context["body"] = page_bar(pagename, app.config) + context["body"]


# Sphinx 9's Chinese search data ends with `window.Stemmer = ChineseStemmer` but ships only the English
# stemmer it indexes Latin words with, so the search page stops on a ReferenceError: name the English one.
CHINESE_STEMMER = "window.ChineseStemmer = window.ChineseStemmer || function () { return new EnglishStemmer(); };"


def _chinese_search(app: Any) -> None:
    if str(app.config.language).startswith("zh"):
        app.add_js_file(None, body=CHINESE_STEMMER)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("lk_edition", "en", "html")
    app.add_config_value("lk_solutions", False, "html")
    app.add_config_value("lk_pages", {}, "html")
    app.connect("html-page-context", _page_context)
    app.connect("builder-inited", _chinese_search)
    app.add_css_file("lk-site.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
