"""Move the sample data's dates so that the demo tells the same story on any day.

The sample repo was written as of ANCHOR. The demo copies it and moves every date in
its opportunity files by whole weeks (weekdays stay weekdays), from ANCHOR to today
(``OPP_TODAY`` when set): the open deals close in the coming weeks and months, the won
and lost ones closed in the past ones, whatever year it is.

    python shift_dates.py FOLDER   # prints the number of days moved
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

ANCHOR = date(2026, 11, 26)
DAY = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")


def weeks_since_anchor(today: date) -> timedelta:
    return timedelta(weeks=round((today - ANCHOR).days / 7))


def shift_text(text: str, delta: timedelta) -> str:
    def moved(m: re.Match) -> str:
        return (date(int(m[1]), int(m[2]), int(m[3])) + delta).isoformat()
    return DAY.sub(moved, text)


def main(folder: Path) -> None:
    today = date.fromisoformat(os.environ["OPP_TODAY"]) if os.environ.get("OPP_TODAY") \
        else date.today()
    delta = weeks_since_anchor(today)
    for path in sorted((folder / "opportunities").glob("*.yaml")):
        path.write_text(shift_text(path.read_text(encoding="utf-8"), delta), encoding="utf-8")
    print(delta.days)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
