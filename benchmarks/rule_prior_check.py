"""In-prior check (issue 29): zero-shot ROC-AUC on fresh binary rule tables (causalmix.rule_prior; 256 train and
500 test rows, 10 tables per shape, no label noise) of recipe checkpoints, the shipped causalmix-wide and a
random forest. Run after benchmarks/recipes.py has trained runs/recipes/{base,rules30}:

    python benchmarks/rule_prior_check.py
"""
import numpy as np, torch, warnings
warnings.filterwarnings("ignore")
torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score
from sklearn.ensemble import RandomForestClassifier
from causalmix.model import load_classifier
from causalmix.rule_prior import RuleConfig, sample_rule_table
models = {"base": "runs/recipes/base/latest.ckpt", "rules30": "runs/recipes/rules30/latest.ckpt", "causalmix-wide": "causalmix-wide"}
shapes = {"generic (8 cols)": (8, RuleConfig(noise_prob=0.0)),
          "splice-like (60 cat cols)": (60, RuleConfig(all_categorical_prob=1.0, max_categories=5, noise_prob=0.0))}
g = torch.Generator().manual_seed(123)
for label, (F, cfg) in shapes.items():
    scores = {m: [] for m in [*models, "random_forest"]}
    kinds = []
    for t in range(10):
        for _ in range(20):
            x, y, kind = sample_rule_table(g, n_rows=756, n_features=F, max_classes=2, config=cfg)
            x, y = x.numpy(), y.numpy()
            if len(np.unique(y[:256])) == 2 and len(np.unique(y[256:])) == 2:
                break
        kinds.append(kind)
        for m, spec in models.items():
            clf = load_classifier(spec, device="cpu", n_estimators=2, random_state=0)
            clf.fit(x[:256], y[:256])
            scores[m].append(roc_auc_score(y[256:], clf.predict_proba(x[256:])[:, 1]))
        rf = RandomForestClassifier(100, random_state=0, n_jobs=1).fit(x[:256], y[:256])
        scores["random_forest"].append(roc_auc_score(y[256:], rf.predict_proba(x[256:])[:, 1]))
    print(label, "kinds:", ",".join(kinds), flush=True)
    for m, v in scores.items():
        print(f"  {m:15s} mean {np.mean(v):.3f} median {np.median(v):.3f}", flush=True)
