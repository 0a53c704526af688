"""pip-audit over requirements.lock, with an allow-list whose entries carry a reason and an expiry date.

A known vulnerability fails the step unless allowed and unexpired. Packages the vulnerability
service could not look up are reported; KEEL_AUDIT_STRICT=1 makes them fail the step too.
"""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOW = ROOT / ".ci" / "audit-allow.txt"


def allowed_ids(today: datetime.date) -> list[str]:
    ids = []
    for number, line in enumerate(ALLOW.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            sys.exit(f"{ALLOW.name}:{number}: needs an id, an expiry date and a reason")
        vuln_id, expires, _reason = parts
        if datetime.date.fromisoformat(expires) >= today:
            ids.append(vuln_id)
        else:
            print(f"allow-list entry {vuln_id} expired on {expires}; it no longer applies")
    return ids


def main() -> int:
    pip_audit = Path(sys.executable).parent / "pip-audit"
    command = [
        str(pip_audit),
        "-r",
        str(ROOT / "requirements.lock"),
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    for vuln_id in allowed_ids(datetime.datetime.now(datetime.UTC).date()):
        command += ["--ignore-vuln", vuln_id]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr, sep="\n")
        return result.returncode or 1
    found = [(d["name"], d["version"], v["id"]) for d in report["dependencies"] for v in d.get("vulns", [])]
    skipped = [d["name"] for d in report["dependencies"] if d.get("skip_reason")]
    audited = len(report["dependencies"]) - len(skipped)
    for name, version, vuln_id in found:
        print(f"VULNERABLE {name} {version}: {vuln_id}")
    print(f"pip-audit: {audited} packages audited, {len(found)} known vulnerabilities, {len(skipped)} not looked up")
    if skipped:
        print("not looked up (the vulnerability service had no entry reachable from here): " + ", ".join(skipped))
    if found:
        return 1
    if skipped and os.environ.get("KEEL_AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
