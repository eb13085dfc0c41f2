"""Imputation by linear probes on the embeddings (`skinmap impute`).

Follows the authors' code (Digital-Dermatology/skinmap-code): a
scikit-learn `LogisticRegression(max_iter=5000)` per categorical attribute
and `Ridge(alpha=1)` for age, trained on the embeddings of labelled images;
accuracy, balanced accuracy and macro-F1 (or MAE, RMSE and R² for age) on a
held-out 20%, with bootstrap intervals. Two things differ from the authors:

* The held-out 20% is a group split (StratifiedGroupKFold, one fold of
  five): images linked by a shared patient, lesion, identity or duplicate
  cluster (dbt `int_images_keyed_by_identity`,
  `int_identity_clusters_labelled`; without them the source image id or
  pixel hash) form one group, and a group is on one side only. The authors' plain stratified 80/20 split is
  run too and its headline metric stored beside ours: the difference is what
  duplicates across the split inflate.
* A probe whose held-out headline metric (balanced accuracy, or R² for
  age) falls below the quality bar imputes nothing, and the run says so.

Only labelled values (provenance 'label') train a probe. Predictions for the
model's images go to atlas.imputed_value (per model); the NULL fields of
atlas.image_metadata whose family has no label are filled with provenance
'imputed'. Only one model's imputations are in image_metadata: each run
first clears every 'imputed' field (whichever model wrote it) and writes its
own, so the last `skinmap impute` run's model is the one the representation
KPIs read. A labelled field is never touched; a rerun gives the same rows.
Diagnosis is probed (measured) but never imputed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skinmap import db
from skinmap.harmonise import CONTINENTS, FITZPATRICK_GROUPS, MAX_AGE_YEARS, age_bin
from skinmap.knn.vectors import load_vectors, model_ids, model_images


@dataclass(frozen=True)
class Attribute:
    name: str
    family: str  # the provenance column's prefix: <family>_provenance
    task: str  # classification | regression
    is_imputable: bool = True


ATTRIBUTES = (
    Attribute("fitzpatrick_type", "fitzpatrick", "classification"),
    Attribute("fitzpatrick_group", "fitzpatrick", "classification"),
    Attribute("age_years", "age", "regression"),
    Attribute("age_bin", "age", "classification"),
    Attribute("sex", "sex", "classification"),
    Attribute("body_region", "body_site", "classification"),
    Attribute("laterality", "body_site", "classification"),
    Attribute("country_code", "country", "classification"),
    Attribute("continent", "country", "classification"),
    Attribute("diagnosis", "diagnosis", "classification", is_imputable=False),
)
FAMILY_FIELDS = {
    "fitzpatrick": ("fitzpatrick_type", "fitzpatrick_group"),
    "age": ("age_years", "age_bin"),
    "sex": ("sex",),
    "body_site": ("body_region", "laterality"),
    "country": ("country_code", "continent"),
}
DEFAULT_MIN_BALANCED_ACCURACY = 0.6
DEFAULT_MIN_R2 = 0.3
MIN_CLASS_IMAGES = 5  # classes with fewer labelled images are left out of the probe (never predicted)
MIN_LABELLED = 20


class ImputeError(RuntimeError):
    """The imputation cannot run; the message says what to do."""


@dataclass
class Probe:
    attribute: str
    task: str
    n_train: int
    n_test: int
    n_groups: int
    n_classes: int | None
    metrics: dict[str, tuple[float, float, float]]  # name -> (value, lo, hi)
    chance_accuracy: float | None
    headline_metric: str
    headline_value: float
    plain_headline_value: float | None
    plain_accuracy: float | None
    quality_bar: float
    is_imputable: bool
    is_used: bool
    decision: str
    group_source: str
    n_imputed: int = 0

    @property
    def inflation(self) -> float | None:
        return None if self.plain_headline_value is None else self.plain_headline_value - self.headline_value

    def line(self) -> str:
        value, lo, hi = self.metrics[self.headline_metric]
        plain = "" if self.inflation is None else f", plain split {self.plain_headline_value:.3f} ({self.inflation:+.3f})"
        return (f"  {self.attribute}: {self.headline_metric} {value:.3f} [{lo:.3f}, {hi:.3f}] on {self.n_test} "
                f"held-out images{plain}; {self.decision}")


@dataclass
class ImputeResult:
    model_name: str
    n_images: int
    probes: list[Probe] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def line(self) -> str:
        lines = [f"impute {self.model_name}: {self.n_images} images with vectors"]
        lines += [p.line() for p in self.probes]
        lines += [f"  {s}" for s in self.skipped]
        return "\n".join(lines)


def _components(keys_of: dict[int, list[str]]) -> dict[int, str]:
    """Union-find: images that share any key (patient, lesion, cluster, identity) form one group."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for image_id, keys in keys_of.items():
        first = find(f"image:{image_id}")
        for key in keys:
            root = find(key)
            if root != first:
                parent[root] = first
    return {image_id: find(f"image:{image_id}") for image_id in keys_of}


def _groups(conn, image_ids: np.ndarray, model_id: int) -> tuple[dict[int, str], str]:
    """image -> group: the images linked by a shared patient, lesion, identity or duplicate cluster are one group.

    Keys come from dbt (int_images_keyed_by_identity: patient, lesion and
    identity keys; int_identity_clusters_labelled: this model's duplicate
    clusters) after `skinmap build`; before it from atlas.image (patient and
    lesion ids within the dataset, source image id, pixel hash)."""
    have = conn.execute("select to_regclass('intermediate.int_images_keyed_by_identity') is not null, "
                        "to_regclass('intermediate.int_identity_clusters_labelled') is not null").fetchone()
    ids = [int(i) for i in image_ids]
    keys_of: dict[int, list[str]] = {i: [] for i in ids}
    parts = []
    if have[0]:
        for image_id, patient, lesion, identity in conn.execute(
                "select image_id, patient_key, lesion_key, identity_key "
                "from intermediate.int_images_keyed_by_identity where image_id = any(%s)", (ids,)).fetchall():
            keys_of[image_id] += [f"patient:{patient}" if patient else "", f"lesion:{lesion}" if lesion else "",
                                  f"identity:{identity}"]
        parts.append("patient, lesion and identity keys (dbt)")
    if have[1]:
        for image_id, cluster in conn.execute(
                "select image_id, cluster_id::text from intermediate.int_identity_clusters_labelled "
                "where model_id = %s and image_id = any(%s)", (model_id, ids)).fetchall():
            keys_of[image_id].append(f"cluster:{cluster}")
        parts.append("duplicate clusters (dbt)")
    if not have[0]:
        for image_id, patient, lesion, source_id, pixels in conn.execute(
                "select i.image_id, d.slug || ':' || i.patient_id, d.slug || ':' || i.lesion_id, i.source_image_id, "
                "i.pixel_sha256 from atlas.image i join atlas.dataset d using (dataset_id) "
                "where i.image_id = any(%s)", (ids,)).fetchall():
            keys_of[image_id] += [f"patient:{patient}" if patient else "", f"lesion:{lesion}" if lesion else "",
                                  f"identity:{source_id}" if source_id else "", f"pixels:{pixels}" if pixels else ""]
        parts.append("patient, lesion, source id and pixel hash (atlas; `skinmap build` adds clusters)")
    return _components({i: [k for k in keys if k] for i, keys in keys_of.items()}), "; ".join(parts)


def _labels(conn, image_ids: np.ndarray) -> dict[str, dict[int, object]]:
    """attribute -> {image: labelled value} (provenance 'label' only)."""
    cols = ", ".join(a.name for a in ATTRIBUTES)
    provs = ", ".join(f"{a.family}_provenance" for a in ATTRIBUTES)
    out: dict[str, dict[int, object]] = {a.name: {} for a in ATTRIBUTES}
    for row in conn.execute(f"select image_id, {cols}, {provs} from atlas.image_metadata where image_id = any(%s)",
                            ([int(i) for i in image_ids],)).fetchall():
        image_id, values, provenance = row[0], row[1:1 + len(ATTRIBUTES)], row[1 + len(ATTRIBUTES):]
        for attr, value, prov in zip(ATTRIBUTES, values, provenance):
            if value is not None and prov == "label":
                out[attr.name][image_id] = float(value) if attr.task == "regression" else str(value)
    return out


def _classification_metrics(y_true, y_pred) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
    return {"accuracy": accuracy_score(y_true, y_pred),
            "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
            "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0)}


def _regression_metrics(y_true, y_pred) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    return {"mae": mean_absolute_error(y_true, y_pred),
            "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
            "r2": r2_score(y_true, y_pred)}


def _with_intervals(y_true, y_pred, metrics_of, n_boot: int, seed: int) -> dict[str, tuple[float, float, float]]:
    """Each metric with its 95% percentile bootstrap interval over resampled held-out images."""
    import warnings
    point = metrics_of(y_true, y_pred)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            idx = rng.integers(0, len(y_true), len(y_true))
            for k, v in metrics_of(y_true[idx], y_pred[idx]).items():
                if np.isfinite(v):
                    draws[k].append(v)
    return {k: (float(v), float(np.percentile(draws[k], 2.5)) if draws[k] else float(v),
                float(np.percentile(draws[k], 97.5)) if draws[k] else float(v)) for k, v in point.items()}


def grouped_split(y: np.ndarray, groups: np.ndarray, *, stratify: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) positions: about 20% held out, no group on both sides (one fold of five)."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
    n_groups = len(np.unique(groups))
    splits = min(5, n_groups)
    if stratify:
        splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
        return next(splitter.split(np.zeros(len(y)), y, groups))
    return next(GroupKFold(n_splits=splits).split(np.zeros(len(y)), y, groups))


def plain_split(y: np.ndarray, *, stratify: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The authors' split: stratified 80/20 over images, blind to patients, lesions and duplicates."""
    from sklearn.model_selection import train_test_split
    return train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed, stratify=y if stratify else None)


def _estimator(task: str):
    from sklearn.linear_model import LogisticRegression, Ridge
    return LogisticRegression(max_iter=5000) if task == "classification" else Ridge(alpha=1.0)


def train_probe(attr: Attribute, x: np.ndarray, y: np.ndarray, groups: np.ndarray, *, bar: float, seed: int,
                n_boot: int, group_source: str):
    """(Probe, the estimator refitted on every labelled image, classes kept) or (None, reason)."""
    if attr.task == "classification":
        values, counts = np.unique(y, return_counts=True)
        kept = set(values[counts >= MIN_CLASS_IMAGES])
        keep = np.array([v in kept for v in y])
        x, y, groups = x[keep], y[keep], groups[keep]
        if len(kept) < 2:
            return None, f"{attr.name}: fewer than two values with {MIN_CLASS_IMAGES}+ labelled images, no probe"
    if len(y) < MIN_LABELLED or len(np.unique(groups)) < 5:
        return None, f"{attr.name}: {len(y)} labelled images in {len(np.unique(groups))} groups, too few for a probe"
    classify = attr.task == "classification"
    train, test = grouped_split(y, groups, stratify=classify, seed=seed)
    if classify and (len(np.unique(y[train])) < 2):
        return None, f"{attr.name}: the group split left one value in training, no probe"
    model = _estimator(attr.task).fit(x[train], y[train])
    metrics_of = _classification_metrics if classify else _regression_metrics
    metrics = _with_intervals(y[test], model.predict(x[test]), metrics_of, n_boot, seed)
    plain_train, plain_test = plain_split(y, stratify=classify, seed=seed)
    plain_metrics = metrics_of(y[plain_test], _estimator(attr.task).fit(x[plain_train], y[plain_train])
                               .predict(x[plain_test]))
    headline = "balanced_accuracy" if classify else "r2"
    value = metrics[headline][0]
    chance = None
    if classify:
        _, train_counts = np.unique(y[train], return_counts=True)
        chance = float(train_counts.max() / train_counts.sum())
    if not attr.is_imputable:
        decision, used = "measured only, never imputed", False
    elif value >= bar:
        decision, used = f"used (>= {bar:g})", True
    else:
        decision, used = f"not imputed: below the quality bar {bar:g}", False
    probe = Probe(attr.name, attr.task, len(train), len(test), len(np.unique(groups)),
                  len(np.unique(y)) if classify else None, metrics, chance, headline, value,
                  plain_metrics[headline], plain_metrics.get("accuracy"), bar, attr.is_imputable, used, decision,
                  group_source)
    final = _estimator(attr.task).fit(x, y) if used else None
    return probe, final


def _store_probe(conn, model_id: int, probe: Probe, seed: int, n_boot: int) -> int:
    m = probe.metrics
    cols = {}
    for name in ("accuracy", "balanced_accuracy", "macro_f1", "mae", "rmse", "r2"):
        v = m.get(name, (None, None, None))
        cols.update({name: v[0], f"{name}_lo": v[1], f"{name}_hi": v[2]})
    estimator = "LogisticRegression(max_iter=5000)" if probe.task == "classification" else "Ridge(alpha=1)"
    cols.update(model_id=model_id, attribute=probe.attribute, task=probe.task, estimator=estimator,
                split="StratifiedGroupKFold 1/5" if probe.task == "classification" else "GroupKFold 1/5",
                group_source=probe.group_source, seed=seed, n_train=probe.n_train, n_test=probe.n_test,
                n_groups=probe.n_groups, n_classes=probe.n_classes, n_bootstrap=n_boot,
                chance_accuracy=probe.chance_accuracy, headline_metric=probe.headline_metric,
                headline_value=probe.headline_value, plain_split_headline_value=probe.plain_headline_value,
                plain_split_accuracy=probe.plain_accuracy, quality_bar=probe.quality_bar,
                is_imputable=probe.is_imputable, is_used=probe.is_used, decision=probe.decision)
    names = list(cols)
    conn.execute("delete from atlas.imputation_probe where model_id = %s and attribute = %s",
                 (model_id, probe.attribute))
    return conn.execute(
        f"insert into atlas.imputation_probe ({', '.join(names)}) values ({', '.join(['%s'] * len(names))}) "
        "returning probe_id", [cols[n] for n in names]).fetchone()[0]


def _as_value(attr: str, predicted) -> object:
    if attr == "age_years":
        return round(float(min(max(predicted, 0.0), MAX_AGE_YEARS)), 1)
    if attr == "fitzpatrick_type":
        return int(float(predicted))
    return str(predicted)


def impute(url: str, model_name: str, *, min_balanced_accuracy: float = DEFAULT_MIN_BALANCED_ACCURACY,
           min_r2: float = DEFAULT_MIN_R2, seed: int = 15, n_boot: int = 200,
           attributes: tuple[str, ...] | None = None) -> ImputeResult:
    """Train, measure and store one probe per attribute for the model; impute the unlabelled fields."""
    ids = model_ids(url, model_name)
    if not ids:
        raise ImputeError(f"no vectors for model {model_name!r}: run `skinmap embed` (or import embeddings) first")
    model_id = ids[0]
    images = model_images(url, model_id)
    image_ids = images.image_ids
    vectors = load_vectors(url, model_id, image_ids)
    result = ImputeResult(model_name, len(image_ids))
    position = {int(i): p for p, i in enumerate(image_ids)}
    with db.connect(url) as conn:
        groups_of, group_source = _groups(conn, image_ids, model_id)
        labels = _labels(conn, image_ids)
        conn.execute("delete from atlas.imputed_value where model_id = %s and source = 'probe'", (model_id,))
        conn.execute("delete from atlas.imputation_probe where model_id = %s", (model_id,))
        predictions: dict[str, tuple[int, dict[int, tuple[object, float | None]]]] = {}
        for attr in ATTRIBUTES:
            if attributes is not None and attr.name not in attributes:
                continue
            labelled = labels[attr.name]
            if not labelled:
                result.skipped.append(f"{attr.name}: no labelled image, no probe")
                continue
            rows = np.array([position[i] for i in labelled])
            y = np.array(list(labelled.values()), dtype=np.float64 if attr.task == "regression" else object)
            if attr.task == "classification":
                y = y.astype(str)
            groups = np.array([groups_of[i] for i in labelled])
            bar = min_balanced_accuracy if attr.task == "classification" else min_r2
            probe, final = train_probe(attr, vectors[rows], y, groups, bar=bar, seed=seed, n_boot=n_boot,
                                       group_source=group_source)
            if probe is None:
                result.skipped.append(final)
                continue
            probe_id = _store_probe(conn, model_id, probe, seed, n_boot)
            result.probes.append(probe)
            if final is None:
                continue
            todo = np.array([p for p, i in enumerate(image_ids) if int(i) not in labelled], dtype=np.int64)
            if len(todo) == 0:
                continue
            x = vectors[todo]
            if attr.task == "classification":
                proba = final.predict_proba(x)
                values = final.classes_[proba.argmax(axis=1)]
                confidence = proba.max(axis=1)
            else:
                values, confidence = final.predict(x), [None] * len(todo)
            predictions[attr.name] = (probe_id, {
                int(image_ids[p]): (_as_value(attr.name, v), None if c is None else float(min(max(c, 0.0), 1.0)))
                for p, v, c in zip(todo, values, confidence)})
        written = _write(conn, model_id, predictions)
        for probe in result.probes:
            probe.n_imputed = written.get(probe.attribute, 0)
            conn.execute("update atlas.imputation_probe set n_imputed = %s where model_id = %s and attribute = %s",
                         (probe.n_imputed, model_id, probe.attribute))
        conn.commit()
    return result


def _derivations(conn, source: str) -> tuple[list[str], list[str]]:
    """(raw, derived) pairs for the values the imputed source field holds: harmonise's own tables."""
    values = [r[0] for r in conn.execute(f"select distinct {source}::text from atlas.image_metadata "
                                         f"where {source} is not null").fetchall()]
    if source == "fitzpatrick_type":
        pairs = [(v, FITZPATRICK_GROUPS[int(v)]) for v in values]
    elif source == "age_years":
        pairs = [(v, age_bin(float(v))) for v in values]
    else:
        pairs = [(v, CONTINENTS[v]) for v in values if v in CONTINENTS]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _write(conn, model_id: int, predictions, source: str = "probe") -> dict[str, int]:
    """Store every prediction; fill image_metadata's unlabelled families with this run's (clearing earlier ones).

    predictions: attribute -> (probe_id, {image_id: (value, confidence)}); source 'probe' (a linear probe,
    probe_id set) or 'model' (the model's own predict_meta, probe_id None)."""
    conn.execute("update atlas.imputed_value set is_written = false "
                 "where (model_id <> %s or source <> %s) and is_written", (model_id, source))
    conn.execute("update atlas.imputation_probe set n_imputed = 0 where (model_id <> %s or %s = 'model') "
                 "and n_imputed > 0", (model_id, source))
    for family, fields in FAMILY_FIELDS.items():
        sets = ", ".join(f"{f} = null" for f in fields)
        conn.execute(f"update atlas.image_metadata set {sets}, {family}_provenance = null "
                     f"where {family}_provenance = 'imputed'")
    rows = []
    for attr, (probe_id, values) in predictions.items():
        for image_id, (value, confidence) in values.items():
            rows.append((image_id, attr, model_id, probe_id, source, str(value), confidence))
    with conn.cursor().copy("copy atlas.imputed_value (image_id, attribute, model_id, probe_id, source, value, "
                            "confidence, is_written) from stdin") as copy:
        for row in rows:
            copy.write_row((*row, False))
    written: dict[str, int] = {}
    for family, fields in FAMILY_FIELDS.items():
        present = [f for f in fields if f in predictions]
        if not present:
            continue
        empty = " and ".join(f"m.{f} is null" for f in fields)
        for field_name in present:
            cast = {"age_years": "numeric", "fitzpatrick_type": "smallint"}.get(field_name, "text")
            conn.execute(
                f"update atlas.image_metadata m set {field_name} = v.value::{cast}, "
                f"{family}_provenance = 'imputed' from atlas.imputed_value v "
                f"where v.image_id = m.image_id and v.model_id = %s and v.source = %s and v.attribute = %s "
                f"and (m.{family}_provenance = 'imputed' or (m.{family}_provenance is null and {empty}))",
                (model_id, source, field_name))
        # a derived field follows the imputed one when its own probe is not used
        for target, origin in (("fitzpatrick_group", "fitzpatrick_type"), ("age_bin", "age_years"),
                               ("continent", "country_code")):
            if target in fields and target not in present and origin in present:
                conn.execute(f"update atlas.image_metadata m set {target} = d.derived "
                             f"from (select unnest(%s::text[]) as raw, unnest(%s::text[]) as derived) d "
                             f"where m.{family}_provenance = 'imputed' and m.{target} is null "
                             f"and m.{origin}::text = d.raw", _derivations(conn, origin))
        for field_name in present:
            written[field_name] = conn.execute(
                f"update atlas.imputed_value v set is_written = true from atlas.image_metadata m "
                f"where v.image_id = m.image_id and v.model_id = %s and v.source = %s and v.attribute = %s "
                f"and m.{family}_provenance = 'imputed' returning 1", (model_id, source, field_name)).rowcount
    return written


@dataclass
class ModelHead:
    """What a model's own predict_meta gave for one attribute, measured on the labelled images where it can be."""

    attribute: str
    n_predicted: int
    n_labelled: int
    metric: str | None  # balanced_accuracy | r2, None when too few labels to measure
    value: tuple[float, float, float] | None
    is_used: bool
    decision: str
    n_imputed: int = 0

    def line(self) -> str:
        measured = (f"{self.metric} {self.value[0]:.3f} [{self.value[1]:.3f}, {self.value[2]:.3f}] against "
                    f"{self.n_labelled} labels" if self.value else f"unmeasured ({self.n_labelled} labels)")
        return f"  {self.attribute}: {self.n_predicted} predictions, {measured}; {self.decision}"


@dataclass
class ModelImputeResult:
    model_name: str
    n_images: int
    heads: list[ModelHead] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def line(self) -> str:
        lines = [f"impute --from-model {self.model_name}: predict_meta on {self.n_images} images"]
        lines += [h.line() for h in self.heads]
        lines += [f"  {s}" for s in self.skipped]
        return "\n".join(lines)


def impute_from_model(url: str, predictions, *, min_balanced_accuracy: float = DEFAULT_MIN_BALANCED_ACCURACY,
                      min_r2: float = DEFAULT_MIN_R2, seed: int = 15, n_boot: int = 200) -> ModelImputeResult:
    """Store a model's own metadata predictions (embedder.meta.ModelPredictions) as imputed values.

    The provenance is the model (imputed_value.source 'model', no probe). Where an attribute has
    MIN_LABELLED or more labelled images, the predictions are first measured against those labels
    (balanced accuracy or R², with bootstrap intervals) and used only at or above the same bars as the
    probes; with fewer labels they are used unmeasured, and the line says so. Only unlabelled fields are
    written, the same way as the probes' (labels never touched, each run clears earlier imputed fields,
    a rerun gives the same rows)."""
    result = ModelImputeResult(predictions.model_name, predictions.n_images, skipped=list(predictions.ignored))
    by_name = {a.name: a for a in ATTRIBUTES}
    with db.connect(url) as conn:
        model_id = predictions.model_id
        image_ids = np.array(sorted({i for values in predictions.values.values() for i in values}), dtype=np.int64)
        labels = _labels(conn, image_ids)
        conn.execute("delete from atlas.imputed_value where model_id = %s and source = 'model'", (model_id,))
        to_write: dict[str, tuple[None, dict[int, tuple[object, float | None]]]] = {}
        for name, values in predictions.values.items():
            attr = by_name[name]
            labelled = {i: v for i, v in labels[name].items() if i in values}
            classify = attr.task == "classification"
            metric, measured = ("balanced_accuracy" if classify else "r2"), None
            if len(labelled) >= MIN_LABELLED:
                truth = np.array(list(labelled.values()), dtype=object if classify else np.float64)
                guess = np.array([values[i][0] for i in labelled], dtype=object if classify else np.float64)
                if classify:
                    truth, guess = truth.astype(str), guess.astype(str)
                metrics_of = _classification_metrics if classify else _regression_metrics
                measured = _with_intervals(truth, guess, metrics_of, n_boot, seed)[metric]
            bar = min_balanced_accuracy if classify else min_r2
            if not attr.is_imputable:
                used, decision = False, "measured only, never imputed"
            elif measured is None:
                used, decision = True, f"used unmeasured (fewer than {MIN_LABELLED} labels to check it against)"
            elif measured[0] >= bar:
                used, decision = True, f"used (>= {bar:g})"
            else:
                used, decision = False, f"not imputed: below the quality bar {bar:g}"
            result.heads.append(ModelHead(name, len(values), len(labelled), metric if measured else None, measured,
                                          used, decision))
            if used:
                todo = {i: (_as_value(name, v), c) for i, (v, c) in values.items() if i not in labels[name]}
                if todo:
                    to_write[name] = (None, todo)
        written = _write(conn, model_id, to_write, source="model")
        for head in result.heads:
            head.n_imputed = written.get(head.attribute, 0)
        conn.commit()
    return result
