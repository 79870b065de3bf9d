"""A local DynamoDB + SQS (moto's server) for the tests.

Prints "port <n>" once it listens on 127.0.0.1, then serves until its stdin closes, so it
stops with the test process that started it, however that process ends.
"""

import sys

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(f"port {server.get_host_and_port()[1]}", flush=True)
sys.stdin.read()
server.stop()
