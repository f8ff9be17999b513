"""A worker of the chaos suite: one Performer of the Python module over libpulsar (the C ABI) with the default
timeouts, asking for permission in a loop until killed.

    python3 tests/chaos/worker.py ADMISSION PUBLISH PUSH ID [ACT_MS]

Prints "GRANT python <ID> <unix time>" per permission and "ERROR python <ID> <unix time> <message>" per failed
call, then asks again, as a real worker would. PULSAR_LIB names libpulsar.so.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "c-api" / "python"))

import publisher_pulsar  # noqa: E402


def main() -> None:
    admission, publish, push, ident = sys.argv[1:5]
    act = int(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 0.0
    config = {
        "requestPulsarRsSocketAddress": admission,
        "publisherPulsarSocketAddress": publish,
        "pushPulsarSocketAddress": push,
        "moduleName": f"chaos-python-{ident}",
    }
    with publisher_pulsar.Performer(config) as performer:
        while True:
            try:
                performer.wait_permission()
                print(f"GRANT python {ident} {time.time():.6f}", flush=True)
                time.sleep(act)
                performer.report_success()
            except publisher_pulsar.PulsarError as error:
                print(f"ERROR python {ident} {time.time():.6f} {type(error).__name__}: {error}", flush=True)
                time.sleep(0.1)


if __name__ == "__main__":
    main()
