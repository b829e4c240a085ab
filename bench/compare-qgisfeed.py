#!/usr/bin/env python3
"""Compares what two servers answer QGIS: the old QGIS-Feed and newsfeed,
side by side during a move. For each QGIS agent (3.22, 3.36, 4.0) and each
query, prints the pks each server sends, in order, and whether they match.

    python3 bench/compare-qgisfeed.py https://feed.qgis.org https://feed-new.qgis.org [--after UNIX] [--lang de,fr]

Exit status 1 when any answer differs (pks or order), so it can run daily
from cron during the week both servers run. Only the standard library.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request

AGENTS = {
    "3.22": "Mozilla/5.0 QGIS/32216/Windows 10",
    "3.36": "Mozilla/5.0 QGIS/33600/Ubuntu 22.04 LTS",
    "4.0": "Mozilla/5.0 QGIS/40000/macOS Sequoia (15.1)",
}


def pks(base, query, agent):
    request = urllib.request.Request(f"{base.rstrip('/')}/?{query}", headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return [item.get("pk") for item in json.load(response)]
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, ValueError, TimeoutError) as error:
        return f"error: {error}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--after", help="Unix time for the `after` queries (default: none)")
    parser.add_argument("--lang", action="append", default=["en", "de", "de,fr"],
                        help="languages to ask for (repeatable)")
    args = parser.parse_args()
    queries = ["json=1"] + [f"lang={lang}" for lang in args.lang]
    if args.after:
        queries += [f"after={args.after}"] + [f"lang={lang}&after={args.after}" for lang in args.lang]
    differences = 0
    for name, agent in AGENTS.items():
        for query in queries:
            old, new = pks(args.old, query, agent), pks(args.new, query, agent)
            same = old == new
            differences += not same
            print(f"{'same' if same else 'DIFF'}  QGIS {name:4}  /?{query}")
            if not same:
                print(f"      old: {old}\n      new: {new}")
    print(f"{differences} of {len(AGENTS) * len(queries)} answers differ")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
