"""Static figures (matplotlib, Agg: no window): target, measured train/test and error.

Every panel says what it is; the loss panels share one colour scale.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def surface_figure(path: str | Path, target: np.ndarray, surfaces: dict[str, np.ndarray],
                   info: dict, alpha_range=None, dpi: int = 110) -> Path:
    """Write the side-by-side figure for a z = 2, single-head construction."""
    plt = _plt()
    (lo1, hi1), (lo2, hi2) = alpha_range or [[0, 1], [0, 1]]
    extent = [lo1, hi1, lo2, hi2]
    panels = [("target T", target)] + [
        (f"measured {split} loss\n({info.get('dataset', '')}, "
         f"{info.get('n_' + split, '?')} samples)",
         arr) for split, arr in surfaces.items()]
    vmin = min(float(a.min()) for _, a in panels)
    vmax = max(float(a.max()) for _, a in panels)
    err = surfaces["train"] - target
    emax = max(float(np.abs(err).max()), 1e-9)
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.1 * (len(panels) + 1), 4.4),
                             constrained_layout=True)
    for ax, (title, arr) in zip(axes, panels, strict=False):
        im = ax.imshow(arr.T, origin="lower", extent=extent, vmin=vmin, vmax=vmax,
                       cmap="viridis", interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes[: len(panels)], shrink=0.85, label="loss (nats)" if
                 info.get("loss", "cross_entropy") == "cross_entropy" else "loss")
    ime = axes[-1].imshow(err.T, origin="lower", extent=extent, vmin=-emax, vmax=emax,
                          cmap="RdBu_r", interpolation="nearest")
    axes[-1].set_title("error: train - target", fontsize=10)
    fig.colorbar(ime, ax=axes[-1], shrink=0.85, label="loss difference")
    for ax in axes:
        ax.set_xlabel(r"$\alpha_1$ (direction 1)")
        ax.set_ylabel(r"$\alpha_2$ (direction 2)")
    fig.suptitle(info.get("title", ""), fontsize=11)
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def construction_figure(path, con, measurement, metrics: dict) -> Path:
    r = con.resolved
    tr, te = metrics.get("train", {}), metrics.get("test", {})
    info = {
        "dataset": r.config.dataset, "loss": r.config.loss,
        "n_train": len(r.dataset.train_idx), "n_test": len(r.dataset.test_idx),
        "title": (f"Theorem {r.config.theorem}: pattern '{r.pattern.name}' in the loss surface "
                  f"of a "
                  f"{r.config.depth}x{r.config.width} {r.config.activation} MLP on "
                  f"{r.config.dataset}   |   train PSNR {tr.get('psnr_db', float('nan')):.1f} dB, "
                  f"test PSNR {te.get('psnr_db', float('nan')):.1f} dB"),
    }
    return surface_figure(path, con.target, measurement.surfaces, info, con.alpha_range)


# --- every dimension, colour, Theorem 2 -------------------------------------------------------

def _loss_label(info: dict) -> str:
    return "loss (nats)" if info.get("loss", "cross_entropy") == "cross_entropy" else "loss"


def _save(fig, path, dpi) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    _plt().close(fig)
    return path


def curve_figure(path, target: np.ndarray, surfaces: dict[str, np.ndarray], info: dict,
                 alpha_range=None, dpi: int = 110) -> Path:
    """z = 1: the loss curve, target vs measured train vs test, and their errors."""
    plt = _plt()
    lo, hi = (alpha_range or [[0, 1]])[0]
    heads = target.shape[0] if target.ndim == 2 else 1
    tg = target.reshape(heads, -1)
    a = np.linspace(lo, hi, tg.shape[1])
    fig, (ax, ax_e) = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    colours = ["tab:red", "tab:green", "tab:blue"] if heads == 3 else ["k"]
    styles = {"train": "-", "test": ":"}
    for h in range(heads):
        tag = f" head {'RGB'[h]}" if heads == 3 else ""
        ax.plot(a, tg[h], "--", color=colours[h], lw=2.5, alpha=0.45, label=f"target T{tag}")
        for split, arr in surfaces.items():
            s = arr.reshape(heads, -1)[h]
            ax.plot(a, s, styles.get(split, "-"), color=colours[h] if heads == 3 else
                    ("tab:blue" if split == "train" else "tab:orange"), lw=1.3,
                    label=f"measured {split}{tag} ({info.get('n_' + split, '?')} samples)")
            ax_e.plot(a, s - tg[h], styles.get(split, "-"), lw=1.2,
                      color=colours[h] if heads == 3 else
                      ("tab:blue" if split == "train" else "tab:orange"),
                      label=f"{split} - target{tag}")
    if info.get("alpha_star") is not None:
        ax.axvline(info["alpha_star"][0], color="grey", lw=0.8, ls="-.")
        ax.annotate(r"$\alpha^*$", (info["alpha_star"][0], ax.get_ylim()[1]), fontsize=9,
                    ha="center", va="top")
    ax.set_title(f"loss along direction 1 ({info.get('dataset', '')})", fontsize=10)
    ax.set_ylabel(_loss_label(info))
    ax_e.axhline(0, color="k", lw=0.6)
    ax_e.set_title("error: measured - target", fontsize=10)
    ax_e.set_ylabel("loss difference")
    for axis in (ax, ax_e):
        axis.set_xlabel(r"$\alpha_1$ (direction 1)")
        axis.legend(fontsize=8)
    fig.suptitle(info.get("title", ""), fontsize=11)
    return _save(fig, path, dpi)


def squash(arr: np.ndarray, low: float, high: float) -> np.ndarray:
    """Linear display map [low, high] -> [0, 1], clipped (heads axis first -> H x W x 3)."""
    return np.clip((np.asarray(arr, dtype=np.float64) - low) / (high - low), 0.0, 1.0)


def _rgb_image(arr3: np.ndarray, low: float, high: float) -> np.ndarray:
    """(3, G1, G2) losses -> (G2, G1, 3) colour image, origin lower (alpha_2 up)."""
    return np.moveaxis(squash(arr3, low, high), 0, -1).transpose(1, 0, 2)


def rgb_figure(path, target: np.ndarray, surfaces: dict[str, np.ndarray], info: dict,
               alpha_range=None, dpi: int = 110) -> Path:
    """z = 2 with three heads: the three measured surfaces composed into one colour image."""
    plt = _plt()
    (lo1, hi1), (lo2, hi2) = alpha_range or [[0, 1], [0, 1]]
    extent = [lo1, hi1, lo2, hi2]
    low, high = info["loss_range"]
    panels = [("target T (R, G, B = heads 1-3)", target)] + [
        (f"measured {split} loss, heads as R, G, B\n({info.get('dataset', '')}, "
         f"{info.get('n_' + split, '?')} samples)", arr) for split, arr in surfaces.items()]
    err = surfaces["train"] - target
    emax = max(float(np.abs(err).max()), 1e-9)
    fig, axes = plt.subplots(2, len(panels), figsize=(4.1 * len(panels), 8.4),
                             constrained_layout=True)
    for ax, (title, arr) in zip(axes[0], panels, strict=False):
        ax.imshow(_rgb_image(arr, low, high), origin="lower", extent=extent,
                  interpolation="nearest")
        ax.set_title(title, fontsize=10)
    for h, ax in enumerate(axes[1][:3]):
        im = ax.imshow(err[h].T, origin="lower", extent=extent, vmin=-emax, vmax=emax,
                       cmap="RdBu_r", interpolation="nearest")
        ax.set_title(f"error head {'RGB'[h]}: train - target", fontsize=10)
    for ax in axes[1][3:]:
        ax.axis("off")
    fig.colorbar(im, ax=axes[1][:3], shrink=0.85, label="loss difference")
    for ax in axes.ravel():
        if ax.axison:
            ax.set_xlabel(r"$\alpha_1$ (direction 1)")
            ax.set_ylabel(r"$\alpha_2$ (direction 2)")
    fig.text(0.5, 0.005, f"colour = linear squash of each head's loss from [{low:g}, {high:g}] "
             f"nats to [0, 1] (clipped), for display only; the numbers are the measured losses",
             ha="center", fontsize=9)
    fig.suptitle(info.get("title", ""), fontsize=11)
    return _save(fig, path, dpi)


def slices_figure(path, target: np.ndarray, surfaces: dict[str, np.ndarray], info: dict,
                  alpha_range=None, n_slices: int = 4, dpi: int = 100) -> Path:
    """z >= 3: 2-D slices (alpha_1, alpha_2) at several alpha_3; further directions at their
    middle grid point. Rows: target, measured train, measured test, train - target."""
    plt = _plt()
    heads = 3 if info.get("heads", 1) == 3 else 1
    z = target.ndim - (1 if heads == 3 else 0)
    g = target.shape[-1]
    rng = alpha_range or [[0, 1]] * z
    (lo1, hi1), (lo2, hi2), (lo3, hi3) = rng[:3]
    extent = [lo1, hi1, lo2, hi2]
    ks = np.unique(np.round(np.linspace(0, g - 1, min(n_slices, g))).astype(int))
    mid = (g - 1) // 2

    def cut(arr, k):
        idx = (slice(None), slice(None), k) + (mid,) * (z - 3)
        return arr[(slice(None),) + idx] if heads == 3 else arr[idx]

    rows = [("target T", target)] + [(f"measured {s}", a) for s, a in surfaces.items()]
    err = surfaces["train"] - target
    vmin = min(float(a.min()) for _, a in rows)
    vmax = max(float(a.max()) for _, a in rows)
    emax = max(float(np.abs(err).max()), 1e-9)
    fig, axes = plt.subplots(len(rows) + 1, len(ks), figsize=(3.2 * len(ks), 3.0 * (len(rows) + 1)),
                             constrained_layout=True, squeeze=False)
    for r, (title, arr) in enumerate(rows + [("error: train - target", err)]):
        for c, k in enumerate(ks):
            ax = axes[r][c]
            a3 = lo3 + (hi3 - lo3) * k / (g - 1)
            s = cut(arr, k)
            if heads == 3 and r < len(rows):
                ax.imshow(_rgb_image(s, *info["loss_range"]), origin="lower", extent=extent,
                          interpolation="nearest")
            elif r < len(rows):
                im = ax.imshow(s.T, origin="lower", extent=extent, vmin=vmin, vmax=vmax,
                               cmap="viridis", interpolation="nearest")
            else:
                s = s.mean(0) if heads == 3 else s
                ime = ax.imshow(s.T, origin="lower", extent=extent, vmin=-emax, vmax=emax,
                                cmap="RdBu_r", interpolation="nearest")
            ax.set_title(f"{title}\n" + r"$\alpha_3$" + f" = {a3:.2f}", fontsize=9)
            ax.set_xlabel(r"$\alpha_1$", fontsize=8)
            ax.set_ylabel(r"$\alpha_2$", fontsize=8)
            ax.tick_params(labelsize=7)
    if heads != 3:
        fig.colorbar(im, ax=axes[: len(rows)].ravel().tolist(), shrink=0.6,
                     label=_loss_label(info))
    fig.colorbar(ime, ax=axes[len(rows)].ravel().tolist(), shrink=0.8, label="loss difference")
    rest = (f"; directions 4..{z} fixed at their middle grid point" if z > 3 else "")
    fig.suptitle(info.get("title", "") + f"\nG^{z} = {g}^{z} grid measured; slices at "
                 f"{len(ks)} values of alpha_3{rest}", fontsize=10)
    return _save(fig, path, dpi)


def theorem2_figure(path, target: np.ndarray, surfaces: dict[str, np.ndarray], info: dict,
                    alpha_range=None, dpi: int = 110) -> Path:
    """z = 2, Theorem 2: target, train, test (one colour scale), train error, test - target."""
    plt = _plt()
    (lo1, hi1), (lo2, hi2) = alpha_range or [[0, 1], [0, 1]]
    extent = [lo1, hi1, lo2, hi2]
    panels = [("target T' (min = best train loss)", target)] + [
        (f"measured {split} loss\n({info.get('dataset', '')}, {info.get('n_' + split, '?')} "
         "samples)", arr) for split, arr in surfaces.items()]
    vmin = min(float(a.min()) for _, a in panels)
    vmax = max(float(a.max()) for _, a in panels)
    errs = [("error: train - target", surfaces["train"] - target)]
    if "test" in surfaces:
        errs.append(("gap: test - target (no transfer)", surfaces["test"] - target))
    emax = max(max(float(np.abs(e).max()) for _, e in errs), 1e-9)
    n = len(panels) + len(errs)
    fig, axes = plt.subplots(1, n, figsize=(3.9 * n, 4.5), constrained_layout=True)
    for ax, (title, arr) in zip(axes, panels, strict=False):
        im = ax.imshow(arr.T, origin="lower", extent=extent, vmin=vmin, vmax=vmax,
                       cmap="viridis", interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes[: len(panels)], shrink=0.8, label=_loss_label(info))
    for ax, (title, arr) in zip(axes[len(panels):], errs, strict=False):
        ime = ax.imshow(arr.T, origin="lower", extent=extent, vmin=-emax, vmax=emax,
                        cmap="RdBu_r", interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.colorbar(ime, ax=axes[len(panels):], shrink=0.8, label="loss difference")
    star = info.get("alpha_star")
    for ax in axes:
        if star is not None:
            ax.plot([star[0]], [star[1]], marker="*", color="white", mec="k", ms=11)
        ax.set_xlabel(r"$\alpha_1$ (direction 1)")
        ax.set_ylabel(r"$\alpha_2$ (direction 2)")
    if info.get("footer"):
        fig.text(0.5, 0.003, info["footer"], ha="center", fontsize=8.5)
    fig.suptitle(info.get("title", ""), fontsize=11)
    return _save(fig, path, dpi)


def any_figure(path, con, measurement, metrics: dict) -> Path:
    """The figure for any construction: picks curve / image / colour / slices / Theorem 2."""
    r = con.resolved
    cfg = r.config
    tr, te = metrics.get("train", {}), metrics.get("test", {})
    t2 = metrics.get("theorem2")
    info = {"dataset": cfg.dataset, "loss": cfg.loss, "heads": con.heads,
            "n_train": len(r.dataset.train_idx), "n_test": len(r.dataset.test_idx),
            "loss_range": [r.loss_range.low, r.loss_range.high],
            "alpha_star": t2["alpha_star"] if t2 else None}
    title = (f"Theorem {cfg.theorem}: pattern '{r.pattern.name}' (z = {cfg.z}"
             f"{', RGB: 3 heads' if con.heads == 3 else ''}) in the loss surface of a "
             f"{cfg.depth}x{cfg.width} {cfg.activation} MLP on {cfg.dataset}\n"
             f"train PSNR {tr.get('psnr_db', float('nan')):.1f} dB, test PSNR "
             f"{te.get('psnr_db', float('nan')):.1f} dB vs target")
    if t2:
        s = t2["at_alpha_star"]
        title += (f"   |   at alpha*: train loss {s['train_loss']:.4f}, train acc "
                  f"{s['train_accuracy']:.3f}, test acc {s['test_accuracy']:.3f}")
        b = metrics.get("baseline")
        if b:
            info["footer"] = (f"ordinary training of the same network: train loss "
                              f"{b['train_loss']:.4f}, train acc {b['train_accuracy']:.3f}, "
                              f"test acc {b['test_accuracy']:.3f}. The surface is pinned to the "
                              "training samples: the test surface does not follow T'.")
    info["title"] = title
    args = (path, con.target, measurement.surfaces, info, con.alpha_range)
    if cfg.z == 1:
        return curve_figure(*args)
    if cfg.z >= 3:
        return slices_figure(*args)
    if con.heads == 3:
        return rgb_figure(*args)
    if t2:
        return theorem2_figure(*args)
    return surface_figure(*args)


def _plane(arr: np.ndarray, heads: int) -> tuple[np.ndarray, str]:
    """A 1-D or 2-D view of a surface: head 1 of several, the middle of directions 3.. ."""
    note = []
    if heads > 1:
        arr, note = arr[0], ["head 1"]
    if arr.ndim > 2:
        mid = tuple(s // 2 for s in arr.shape[2:])
        arr = arr[(slice(None), slice(None)) + mid]
        note.append("directions 3.. at their middle grid point")
    return arr, ", ".join(note)


def transfer_figure(path, rep: dict, target: np.ndarray, train: np.ndarray, heads: int = 1,
                    alpha_range=None, dpi: int = 110) -> Path:
    """Observation 1: the surface on the bundle's train split, on the new data, and their gap
    beside the gap predicted from the label marginals (Theorem 1) - all measured.

    Longer than 60 lines because the 1-D and 2-D layouts share titles, scales and labels."""
    plt = _plt()
    f, t = rep["from"], rep["to"]
    views = {k: _plane(a, heads) for k, a in (("target", target), ("train", train),
                                               ("new", rep["_surface"]), ("gap", rep["_gap"]),
                                               ("pred", rep["_predicted"]))}
    note = views["target"][1]
    own = f"measured on\n{f['dataset']} train ({f['n']} samples)"
    new = "measured on\n" + textwrap.fill(f"{t['dataset']} {t['split']} ({t['n']} samples)", 38)
    pred = ("predicted gap from label marginals\n" + r"$\sum_k (\pi'_k - \pi_k)\,\ell(p, k)$"
            if rep["prediction_applies"] else
            "prediction: not applicable\n(Theorem 2 promises no transfer)")
    title = (f"Transfer of {Path(rep['bundle']).name} (Theorem {rep['theorem']}): max |pi' - pi| "
             f"{rep['max_abs_marginal_difference']:.4f}, measured gap max "
             f"{rep['max_abs_gap']:.4f} nats, " + (
                 f"|measured - predicted| max {rep['max_abs_gap_minus_prediction']:.1e}"
                 if rep["prediction_applies"] else "no transfer is promised")
             + (f"\n({note})" if note else ""))
    loss_panels = [("target T", views["target"][0]), (own, views["train"][0]),
                   (new, views["new"][0])]
    gap_panels = [("measured gap:\nnew data - train split", views["gap"][0]),
                  (pred, views["pred"][0])]
    vmin = min(float(a.min()) for _, a in loss_panels)
    vmax = max(float(a.max()) for _, a in loss_panels)
    gmax = max(max(float(np.abs(a).max()) for _, a in gap_panels), 1e-6)
    if views["target"][0].ndim == 1:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        x = np.linspace(*(alpha_range or [[0, 1]])[0], len(views["target"][0]))
        for (label, a), style in zip(loss_panels, ("--", "-", ":"), strict=False):
            axes[0].plot(x, a, style, label=label)
        for (label, a), style in zip(gap_panels, ("-", ":"), strict=False):
            axes[1].plot(x, a, style, label=label)
        axes[0].set_ylabel(_loss_label({}))
        axes[1].set_ylabel("loss difference")
        for ax in axes:
            ax.set_xlabel(r"$\alpha_1$ (direction 1)")
            ax.legend(fontsize=8)
    else:
        (lo1, hi1), (lo2, hi2) = (alpha_range or [[0, 1], [0, 1]])[:2]
        fig, axes = plt.subplots(1, 5, figsize=(20, 4.4), constrained_layout=True)
        for ax, (label, a) in zip(axes[:3], loss_panels, strict=False):
            im = ax.imshow(a.T, origin="lower", extent=[lo1, hi1, lo2, hi2], vmin=vmin, vmax=vmax,
                           cmap="viridis", interpolation="nearest")
            ax.set_title(label, fontsize=9)
        fig.colorbar(im, ax=axes[:3], shrink=0.85, label=_loss_label({}))
        for ax, (label, a) in zip(axes[3:], gap_panels, strict=False):
            im = ax.imshow(a.T, origin="lower", extent=[lo1, hi1, lo2, hi2], vmin=-gmax,
                           vmax=gmax, cmap="RdBu_r", interpolation="nearest")
            ax.set_title(label, fontsize=9)
        fig.colorbar(im, ax=axes[3:], shrink=0.85, label="loss difference (nats)")
        if not rep["prediction_applies"]:
            axes[4].clear()
            axes[4].axis("off")
            axes[4].text(0.5, 0.5, "no prediction:\nTheorem 2 networks see x,\nso the theorem "
                         "promises no transfer;\nthe gap on the left is measured", ha="center",
                         va="center", fontsize=10)
        for ax in axes:
            ax.set_xlabel(r"$\alpha_1$")
            ax.set_ylabel(r"$\alpha_2$")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path, dpi)
