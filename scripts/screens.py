"""Sign in with headless Chromium and screenshot pages: a developer's eye on what users see.

Usage: [PHONE=1] python scripts/screens.py BASE_URL EMAIL PASSWORD OUTDIR PATH [PATH ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    base, email, password, outdir, *paths = sys.argv[1:]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for width, suffix in ((1280, ""), (390, "-phone")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(base + "/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for path in paths:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                name = path.strip("/").replace("/", "_").replace("?", "_") or "root"
                page.screenshot(path=str(out / f"{name}{suffix}.png"), full_page=True)
                print(out / f"{name}{suffix}.png")
            page.close()
            if not os.environ.get("PHONE"):
                break
        browser.close()


if __name__ == "__main__":
    main()
