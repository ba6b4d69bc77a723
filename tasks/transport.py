"""kombu's SQS transport with one change: the prefetch buffer is refilled in batches.

kombu asks SQS for as many messages as the worker has free prefetch slots, and
asks again as soon as one slot frees. With acks_late a slot frees when a job
is acknowledged, so in a backlog a worker with prefetch 10 makes one
ReceiveMessage per job (measured: 0.96 per job), however many slots it has.
Here a worker that still holds messages only polls again once at least half
of its slots are free, so it receives about prefetch/2 messages per call: in a
backlog that is ~0.2 ReceiveMessage per job at prefetch 10, and a worker
never runs dry (it refills while it still holds half a buffer). A worker
holding nothing always polls (long polling, 20 s), so a trickle of jobs is
not delayed.
"""

from __future__ import annotations

from kombu.transport import SQS


class QoS(SQS.QoS):
    def can_consume(self) -> bool:
        if not super().can_consume():
            return False
        prefetch = self.prefetch_count
        if not prefetch:
            return True
        held = len(self._delivered) - len(self._dirty)
        return held == 0 or prefetch - held >= max(1, prefetch // 2)


class Channel(SQS.Channel):
    QoS = QoS


class Transport(SQS.Transport):
    Channel = Channel
