"""Imputed values from a model's own metadata heads (`predict_meta`), beside the linear probes.

`skinmap impute --from-model NAME` stores what a model that predicts
metadata itself (the authors' SkinMap: `predict_meta`) says about each
image. Such a value has no probe: atlas.imputed_value.source says where a
value came from ('probe': a linear probe of atlas.imputation_probe,
probe_id set; 'model': the model's own head, probe_id null), the model_id
is the provenance either way, and one image, attribute and model may hold
one value of each source.

Revision ID: i18_03
Revises: i18_02
Create Date: 2026-12-02
"""
from alembic import op

revision = "i18_03"
down_revision = "i18_02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "alter table atlas.imputed_value add column source text not null default 'probe' "
        "constraint ck_imputed_value_source check (source in ('probe', 'model'))"
    )
    op.execute("alter table atlas.imputed_value alter column probe_id drop not null")
    op.execute(
        "alter table atlas.imputed_value add constraint ck_imputed_value_source_probe "
        "check ((source = 'probe') = (probe_id is not null))"
    )
    op.execute("alter table atlas.imputed_value drop constraint pk_imputed_value")
    op.execute(
        "alter table atlas.imputed_value add constraint pk_imputed_value "
        "primary key (image_id, attribute, model_id, source)"
    )


def downgrade() -> None:
    # a model head's values have no probe: they go, and image_metadata forgets what they filled
    for family, fields in (("fitzpatrick", ("fitzpatrick_type", "fitzpatrick_group")),
                           ("age", ("age_years", "age_bin")), ("sex", ("sex",)),
                           ("body_site", ("body_region", "laterality")),
                           ("country", ("country_code", "continent"))):
        sets = ", ".join(f"{f} = null" for f in fields)
        names = ", ".join(f"'{f}'" for f in fields)
        op.execute(
            f"update atlas.image_metadata m set {sets}, {family}_provenance = null "
            f"where m.{family}_provenance = 'imputed' and exists (select 1 from atlas.imputed_value v "
            f"where v.image_id = m.image_id and v.attribute in ({names}) and v.source = 'model' and v.is_written)"
        )
    op.execute("delete from atlas.imputed_value where source = 'model'")
    op.execute("alter table atlas.imputed_value drop constraint pk_imputed_value")
    op.execute(
        "alter table atlas.imputed_value add constraint pk_imputed_value primary key (image_id, attribute, model_id)"
    )
    op.execute("alter table atlas.imputed_value drop constraint ck_imputed_value_source_probe")
    op.execute("alter table atlas.imputed_value alter column probe_id set not null")
    op.execute("alter table atlas.imputed_value drop column source")
