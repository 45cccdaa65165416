"""What the command line prints while and after it works: the progress bar and the Theorem 2
comparison lines."""

from __future__ import annotations

import sys


class Progress:
    """A text progress bar on stderr (redrawn in place on a terminal, every 10% otherwise)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_decile = -1
        self.phase = None

    def __call__(self, frame) -> None:
        if frame.phase != self.phase:  # a construction may run several phases
            self.phase, self.last_decile = frame.phase, -1
        frac = frame.step / max(frame.total, 1)
        rate = frame.step / max(frame.elapsed, 1e-9)
        eta = (frame.total - frame.step) / max(rate, 1e-9)
        bar = "#" * int(frac * self.width)
        line = (f"[{bar:<{self.width}}] {frame.phase} {frame.step}/{frame.total}  "
                f"fit loss {frame.reg_loss:.2e}  {rate:.0f} steps/s  ETA {eta:.0f}s")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if frame.step == frame.total else ""))
            self.stream.flush()
        elif int(frac * 10) > self.last_decile:
            self.last_decile = int(frac * 10)
            self.stream.write(line + "\n")


def theorem2_lines(metrics: dict) -> list[str]:
    """The Theorem 2 comparison: fit at alpha* beside ordinary training, and the test gap."""
    t2 = metrics["theorem2"]
    s = t2["at_alpha_star"]
    a = ", ".join(f"{v:.3f}" for v in t2["alpha_star"])
    lines = [f"theorem 2: pattern shifted by {t2['shift']:+.4f} nats so that min T' = "
             f"{t2['best_loss']:.4f} (the classifier phase's training loss) at alpha* = ({a})",
             f"  at alpha*: train loss {s['train_loss']:.4f}, train accuracy "
             f"{s['train_accuracy']:.4f}, test loss {s['test_loss']:.4f}, test accuracy "
             f"{s['test_accuracy']:.4f}"]
    b = metrics.get("baseline")
    if b:
        lines.append(f"  ordinary training, same network and split: train loss "
                     f"{b['train_loss']:.4f}, train accuracy {b['train_accuracy']:.4f}, test "
                     f"loss {b['test_loss']:.4f}, test accuracy {b['test_accuracy']:.4f}")
        lines.append(f"  difference (construction - ordinary): train loss "
                     f"{s['train_loss'] - b['train_loss']:+.4f}, train accuracy "
                     f"{s['train_accuracy'] - b['train_accuracy']:+.4f}, test accuracy "
                     f"{s['test_accuracy'] - b['test_accuracy']:+.4f}")
    tr, te = metrics.get("train", {}), metrics.get("test", {})
    if tr and te:
        tf = metrics.get("transfer", {})
        lines.append(f"  the test surface does not follow T': test PSNR {te['psnr_db']:.2f} dB "
                     f"vs train {tr['psnr_db']:.2f} dB; mean |test - train| "
                     f"{tf.get('mean_abs_gap', float('nan')):.4f} nats, max "
                     f"{tf.get('max_abs_gap', float('nan')):.4f} (no transfer is promised)")
    return lines


def error_line(exc: BaseException) -> str:
    """One line for an OSError (the file and the reason), or the message of any other."""
    if isinstance(exc, OSError):
        name = exc.filename or ""
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"{name}: {reason}" if name else f"{reason} ({type(exc).__name__})"
    return str(exc)
