"""``-run=pythonscript -script="facecue_headless.py jobs.json"``: import a manifest of takes."""
import sys

from facecue_unreal.host.headless import run

if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not arguments:
        raise SystemExit("facecue_headless: give the manifest's path")
    code = run(arguments[0])
    if code:
        raise SystemExit(code)
