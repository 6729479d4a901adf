"""Services never outlive `dealtrail up`, and stop within seconds when asked.

`up` starts each child with a parent-death signal (infra.processes.die_with_parent: SIGTERM
when `up` dies, even by SIGKILL). As a fallback each child also watches its parent: `up`
passes its pid as DEALTRAIL_UP_PID, and a child whose parent changed (it was re-parented)
sends itself SIGTERM. A SIGTERM then sets the service's stop event; a service still running
`grace` seconds later (stuck on a dead database or broker) exits anyway: what it had not
committed is redone by the next one (relay and worker are at-least-once, the watcher's
duties idempotent)."""
import logging
import os
import signal
import threading
import time

log = logging.getLogger("dealtrail.lifeline")


def watch_parent(every: float = 1.0) -> None:
    """Under `up` (DEALTRAIL_UP_PID is our parent): SIGTERM ourselves once the parent is gone."""
    expected = os.environ.get("DEALTRAIL_UP_PID", "")
    if not expected.isdigit() or int(expected) != os.getppid():
        return

    def watch():
        while os.getppid() == int(expected):
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stop_on_signals(grace: float | None) -> threading.Event:
    """An event SIGINT/SIGTERM set; with `grace`, the process exits (code 1) that many seconds
    later if still running. The handler only writes a byte to a pipe: setting the event in the
    handler deadlocked when a signal came while the main thread held the event's lock (two
    parent-death SIGTERMs back to back did it: a `watch` ignored every SIGTERM after)."""
    stop = threading.Event()
    wake_r, wake_w = os.pipe()

    def relay():
        os.read(wake_r, 1)
        stop.set()
        if grace is not None:
            time.sleep(grace)
            log.error("still running %.0f s after being asked to stop; exiting", grace)
            logging.shutdown()
            os._exit(1)
    threading.Thread(target=relay, name="stop-signal", daemon=True).start()

    def handler(*_):
        try:
            os.write(wake_w, b"!")
        except OSError:  # the pipe is full of earlier signals: one is enough
            pass
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return stop
