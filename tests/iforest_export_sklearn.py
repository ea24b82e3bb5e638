#!/usr/bin/python3
"""Reference side of the iforest tests and benchmark: Debian's scikit-learn 1.2.1.

Run with /usr/bin/python3 (Debian's interpreter, which has python3-sklearn).

  parity OUTDIR [ROWS FEATURES SEED]
      Trains Pipeline(StandardScaler, IsolationForest(100 trees, max_samples=256)) on a seeded
      synthetic set (column scales from 1e-3 to 1e3, one constant column, 1 % anomalies) and
      writes OUTDIR/model.txt (the forest in the text format iforest_import_sklearn reads),
      OUTDIR/X.f64 (rows, float64 little endian), OUTDIR/score.f64 (score_samples),
      OUTDIR/decision.f64 and OUTDIR/meta.txt ("rows R features F offset001 O"), where O is
      offset_ of the same pipeline fitted with contamination=0.01 (same trees).
  auc DATADIR SEEDS
      For every DATADIR/*.csv.gz (header f0..fN,label): fit and score the pipeline on the full
      set for seeds 0..SEEDS-1 and print "name mean sd" per set (AUC of -score_samples).
  bench ROWS FEATURES OUTDIR
      Writes the benchmark rows to OUTDIR/X.f64, times the same work as bench/iforest.c and
      prints "key value" lines (seconds; bytes for model_bytes).
"""
import gzip
import os
import sys
import time

import numpy as np

try:
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError as e:  # pragma: no cover
    sys.stderr.write("python3-sklearn is missing (apt-get install python3-sklearn; "
                     "it is in tools/deps.sh): %s\n" % e)
    sys.exit(3)


def synthetic(rows, features, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    n_anom = rows // 100
    X[:n_anom] = rng.uniform(-6, 6, size=(n_anom, features))
    scales = 10.0 ** rng.uniform(-3, 3, size=features)
    means = rng.uniform(-100, 100, size=features)
    X = X * scales + means
    X[:, features // 2] = 42.0  # a constant column: scaler scale 1, never split
    perm = rng.permutation(rows)
    y = np.zeros(rows, dtype=np.int8)
    y[:n_anom] = 1
    return X[perm], y[perm]


def pipeline(seed, contamination="auto", trees=100, max_samples=256):
    return make_pipeline(StandardScaler(),
                         IsolationForest(n_estimators=trees, max_samples=max_samples,
                                         contamination=contamination, random_state=seed))


def write_model(path, pipe, n_features):
    scaler, forest = pipe[0], pipe[1]
    subsample = forest._max_features != n_features
    with open(path, "w") as f:
        f.write("lxcscale-sklearn-iforest 1\n")
        f.write("n_features %d\n" % n_features)
        f.write("n_estimators %d\n" % len(forest.estimators_))
        f.write("max_samples %d\n" % forest.max_samples_)
        f.write("offset %r\n" % float(forest.offset_))
        c = forest.contamination
        f.write("contamination %s\n" % ("0" if c == "auto" else repr(float(c))))
        f.write("mean %s\n" % " ".join(repr(float(v)) for v in scaler.mean_))
        f.write("scale %s\n" % " ".join(repr(float(v)) for v in scaler.scale_))
        for est, feats in zip(forest.estimators_, forest.estimators_features_):
            t = est.tree_
            f.write("tree %d\n" % t.node_count)
            for i in range(t.node_count):
                feat = int(t.feature[i])
                if t.children_left[i] != -1 and subsample:
                    feat = int(feats[feat])
                f.write("%d %d %d %r %d\n" % (t.children_left[i], t.children_right[i], feat,
                                              float(t.threshold[i]), t.n_node_samples[i]))
        f.write("end\n")


def cmd_parity(out, rows=100000, features=26, seed=0):
    X, _ = synthetic(rows, features, seed)
    pipe = pipeline(seed).fit(X)
    write_model(os.path.join(out, "model.txt"), pipe, features)
    X.astype("<f8").tofile(os.path.join(out, "X.f64"))
    pipe.score_samples(X).astype("<f8").tofile(os.path.join(out, "score.f64"))
    pipe.decision_function(X).astype("<f8").tofile(os.path.join(out, "decision.f64"))
    off = pipeline(seed, contamination=0.01).fit(X)[1].offset_
    with open(os.path.join(out, "meta.txt"), "w") as f:
        f.write("rows %d features %d offset001 %r\n" % (rows, features, float(off)))


def read_csv_gz(path):
    with gzip.open(path, "rt") as f:
        header = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",", ndmin=2)
    li = header.index("label")
    y = data[:, li].astype(int)
    X = np.delete(data, li, axis=1)
    return X, y


def cmd_auc(datadir, seeds):
    for name in sorted(os.listdir(datadir)):
        if not name.endswith(".csv.gz"):
            continue
        X, y = read_csv_gz(os.path.join(datadir, name))
        aucs = [roc_auc_score(y, -pipeline(s).fit(X).score_samples(X)) for s in range(seeds)]
        print("%s %.6f %.6f" % (name[:-7], np.mean(aucs), np.std(aucs)))


def best(fn, reps, clock=time.process_time):
    t = []
    for _ in range(reps):
        a = clock()
        fn()
        t.append(clock() - a)
    return min(t), t


def cmd_bench(rows, features, out):
    """The work bench/iforest.c measures, done by sklearn on the same rows (written to
    OUT/X.f64 for the C side). CPU seconds (process_time) for fit, batch and rebuild, wall
    seconds per call for single-row latency, as the C side does."""
    import pickle
    X, _ = synthetic(rows, features, 1)
    X[:, features // 2] += np.random.default_rng(2).standard_normal(rows)  # no constant column here
    X.astype("<f8").tofile(os.path.join(out, "X.f64"))
    pipe = pipeline(0)
    print("fit %.6f" % best(lambda: pipe.fit(X), 3)[0])
    print("score_batch_per_row %.9f" % (best(lambda: pipe.score_samples(X[:20000]), 1)[0] / 20000))
    _, ts = best(lambda: pipe.score_samples(X[7:8]), 200, time.perf_counter)
    ts.sort()
    print("single_p50 %.9f" % ts[len(ts) // 2])
    print("single_p99 %.9f" % ts[int(len(ts) * 0.99) - 1])
    # the same work as one group rebuild: 8 trees on 256-row samples of a 4096-row window
    win = pipe[0].transform(X[-4096:])
    g = IsolationForest(n_estimators=8, max_samples=256, random_state=0)
    print("group_rebuild %.6f" % best(lambda: g.fit(win), 5)[0])
    print("model_bytes %d" % len(pickle.dumps(pipe)))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == "parity":
        cmd_parity(argv[2], *[int(a) for a in argv[3:6]])
    elif argv[1] == "auc":
        cmd_auc(argv[2], int(argv[3]))
    elif argv[1] == "bench":
        cmd_bench(int(argv[2]), int(argv[3]), argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
