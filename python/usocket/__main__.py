"""python3 -m usocket run script.py [args...]: runs MicroPython code on
CPython with usocket and uselect as its socket and select (see runner.py)."""
import sys

from usocket import runner

sys.exit(runner.main(sys.argv[1:]))
