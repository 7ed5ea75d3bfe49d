"""Runs one of Debian's sipvicious tools (svmap, svwar, svcrack) as it is,
with three changes around it for the tests (test/support/sipvicious.ts):

- its UDP socket binds to the address given, not to every address: svwar and
  svcrack 0.3.3 read -b but never pass it on, so their packets would leave
  from 127.0.0.1, which is every test's;
- optionally another User-Agent than its `friendly-scanner` (none of the
  tools has an option for it): the attacker who hides what it is;
- every datagram it receives is reported on stderr as `RECEIVED <bytes> FROM
  <address>:<port>`, whatever the tool makes of it, so a test can tell "no
  answer" from "an answer the tool ignored".

Usage: python3 sipvicious-run.py ADDRESS USER_AGENT|- TOOL_SCRIPT [ARGS...]
(run with the interpreter of TOOL_SCRIPT's #! line).
"""
import inspect
import os
import runpy
import socket
import sys

address, user_agent, tool = sys.argv[1:4]
sys.argv = [tool, *sys.argv[4:]]
# Where the tool's script is, its `sipvicious` package is (Debian: /usr/share/sipvicious).
sys.path.insert(0, os.path.dirname(os.path.realpath(tool)))

real_bind = socket.socket.bind
real_recvfrom = socket.socket.recvfrom


def bind(self, where):
    host, *rest = where
    return real_bind(self, (address, *rest) if host in ('', '0.0.0.0') else where)


def recvfrom(self, *args):
    data, source = real_recvfrom(self, *args)
    print(f'RECEIVED {len(data)} FROM {source[0]}:{source[1]}', file=sys.stderr, flush=True)
    return data, source


socket.socket.bind = bind
socket.socket.recvfrom = recvfrom

if user_agent != '-':
    from sipvicious.libs import svhelper

    # makeRequest(..., useragent='friendly-scanner', ...) builds every request of the three tools.
    parameters = list(inspect.signature(svhelper.makeRequest).parameters)
    defaults = list(svhelper.makeRequest.__defaults__)
    if 'useragent' not in parameters:
        sys.exit(f'sipvicious-run: this sipvicious has no useragent parameter in makeRequest({", ".join(parameters)}); the User-Agent cannot be changed')
    defaults[parameters.index('useragent') - (len(parameters) - len(defaults))] = user_agent
    svhelper.makeRequest.__defaults__ = tuple(defaults)

runpy.run_path(os.path.realpath(tool), run_name='__main__')
