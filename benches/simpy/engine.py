"""The bare-engine workload in SimPy, for `drmsim bench engine --compare`: N processes, each
waiting a uniform 1..1000 ticks repeatedly; stops after EVENTS timeouts. Prints one line:
`simpy <events> <seconds>` (CPU time of env.run only, as the Rust side measures)."""
import random
import sys
import time

import simpy


def main():
    actors, events, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    env = simpy.Environment()
    rng = random.Random(seed)
    done = env.event()
    count = [0]

    def proc():
        while True:
            yield env.timeout(rng.randint(1, 1000))
            count[0] += 1
            if count[0] == events:
                done.succeed()

    for _ in range(actors):
        env.process(proc())
    start = time.process_time()
    env.run(until=done)
    secs = time.process_time() - start
    print(f"simpy {count[0]} {secs:.6f}")


if __name__ == "__main__":
    main()
