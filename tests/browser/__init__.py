"""Browser tests: the pages in Chromium through Playwright (marker `browser`)."""
