//! Network model: topology of actor groups, latency, loss, duplication, partitions.
