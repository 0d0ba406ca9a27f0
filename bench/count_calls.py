"""Count the remote executions (SSH sessions) per task in an `ansible-playbook -vvv` log of one host.

With pipelining each module call, and each loop item, is one `SSH: EXEC` (a file transfer adds its own: mkdir, sftp put, rm); controller-only tasks
(set_fact, debug, assert, the controller-side validation) have none.
Usage: count_calls.py LOG  -> per task: SSH sessions and module runs (python3), then the totals.
"""
import re
import sys
from collections import OrderedDict

counts = OrderedDict()
modules = {}
task = None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"^(TASK|RUNNING HANDLER) \[(.*?)\]", line)
    if m:
        task = m.group(2)
        counts.setdefault(task, 0)
        continue
    if "SSH: EXEC" in line and task is not None:
        counts[task] += 1
        if "python3 && sleep 0" in line:
            modules[task] = modules.get(task, 0) + 1
total = mtotal = 0
print("ssh  module  task")
for name, n in counts.items():
    if n:
        m = modules.get(name, 0)
        print(f"{n:3d}  {m:6d}  {name}")
        total += n
        mtotal += m
print(f"{total:3d}  {mtotal:6d}  TOTAL for the host (ssh sessions, module runs)")
