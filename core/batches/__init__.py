"""Batches (issue 14): many items submitted as one batch, each item one ordinary job.

Modules, by concept:

* ``model``     what the API takes and returns (camelCase JSON, the batch contract);
* ``layout``    pure: child JobIds, groups of ten, the Batches table's keys;
* ``parsing``   pure: JSON Lines / CSV records from a byte stream, with offsets;
* ``progress``  pure: counts, progress, throughput and ETA from the stored figures;
* ``table``     the Batches table's reads and writes (meta, counters, roll-ups);
* ``children``  child job items: written with BatchWriteItem, sent with SendMessageBatch;
* ``counting``  a child's terminal write -> its group's counter -> roll-up -> refill;
* ``ingest``    reading an input file in checkpointed slices (a worker task);
* ``lifecycle`` finish (results file, end), cancel, retry-failed, the sweeper;
* ``webhook``   the signed completion call;
* ``service``   what the API routes call.

The design and its arithmetic (exact counts, fairness window, cost) are in the
README, section "Batches".
"""
