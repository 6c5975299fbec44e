"""List the files a unified diff touches, one per line."""

import sys

for line in sys.stdin:
    if line.startswith("+++ b/"):
        print(line[6:].rstrip())
