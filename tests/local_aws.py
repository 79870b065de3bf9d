"""A local DynamoDB + SQS (moto's server) for the tests.

Prints "port <n>" once it listens on 127.0.0.1, then serves until its stdin closes, so it
stops with the test process that started it, however that process ends.
"""

import sys
import threading

from moto.server import ThreadedMotoServer
from moto.sqs.models import Queue, SQSBackend

# moto serves each request on its own thread, and its ReceiveMessage checks that a message is
# visible and then hides it without a lock: two receives at once can take the same message
# (the second sees ApproximateReceiveCount 2), which SQS does within a visibility timeout
# only rarely. The tests count attempts exactly, so a queue's receives scan it one at a time;
# a long poll lets go of the queue while it waits.
_receive = SQSBackend.receive_message
_wait = Queue.wait_for_messages
_locks_lock = threading.Lock()


def _scan_lock(queue):
    with _locks_lock:
        if not hasattr(queue, "_scan_lock"):
            queue._scan_lock = threading.Lock()
        return queue._scan_lock


def _receive_one_at_a_time(self, queue_name, *args, **kwargs):
    with _scan_lock(self.get_queue(queue_name)):
        return _receive(self, queue_name, *args, **kwargs)


def _wait_unlocked(self, timeout):
    lock = _scan_lock(self)
    lock.release()
    try:
        _wait(self, timeout)
    finally:
        lock.acquire()


SQSBackend.receive_message = _receive_one_at_a_time
Queue.wait_for_messages = _wait_unlocked

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(f"port {server.get_host_and_port()[1]}", flush=True)
sys.stdin.read()
server.stop()
