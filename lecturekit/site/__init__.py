"""The course as a website: `python -m lecturekit site --out DIR` (see `build` and docs/site.md)."""
