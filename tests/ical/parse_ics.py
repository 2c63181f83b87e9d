"""Parses an .ics file with the independent `icalendar` package and checks
RFC 5545's framing itself: every line ends with CRLF, no physical line is
longer than 75 octets, continuation lines start with one space. Prints the
VEVENTs as JSON (times as UTC ISO 8601) for the Rust test to compare.

usage: python parse_ics.py FILE.ics
"""
import datetime
import json
import sys

import icalendar


def main(path):
    raw = open(path, "rb").read()
    problems = []
    if not raw.endswith(b"\r\n"):
        problems.append("the file does not end with CRLF")
    lines = raw.split(b"\r\n")[:-1]
    for i, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {i}: a bare CR or LF")
        if len(line) > 75:
            problems.append(f"line {i}: {len(line)} octets (more than 75)")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"line {i}: folding split a UTF-8 character")
    cal = icalendar.Calendar.from_ical(raw.decode("utf-8"))
    if cal.get("VERSION") != "2.0" or not cal.get("PRODID"):
        problems.append("VERSION 2.0 and PRODID are required")
    events = []
    for ev in cal.walk("VEVENT"):
        def utc(name):
            v = ev.get(name)
            if v is None:
                problems.append(f"{name} missing")
                return None
            dt = v.dt
            if not isinstance(dt, datetime.datetime) or dt.utcoffset() != datetime.timedelta(0):
                problems.append(f"{name} is not a UTC date-time: {dt!r}")
                return None
            return dt.strftime("%Y-%m-%dT%H:%M:%SZ")

        cats = []
        for c in (ev.get("CATEGORIES") if isinstance(ev.get("CATEGORIES"), list) else [ev.get("CATEGORIES")]):
            if c is not None:
                cats.extend(str(x) for x in c.cats)
        events.append({
            "uid": str(ev.get("UID")),
            "dtstamp": utc("DTSTAMP"),
            "dtstart": utc("DTSTART"),
            "dtend": utc("DTEND"),
            "summary": str(ev.get("SUMMARY")),
            "location": str(ev.get("LOCATION", "")),
            "description": str(ev.get("DESCRIPTION", "")),
            "categories": cats,
        })
    print(json.dumps({"problems": problems, "events": events, "lines": len(lines)}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
