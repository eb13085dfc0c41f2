{#- The earliest year of each group has no reference images (and so the
    NULL measures); every later year has some. -#}
{% test first_year_has_no_reference(model, group_by, year_column='release_year', n_reference_column='n_reference') %}

with

ranked as (
    select
        *,
        {{ year_column }} = min({{ year_column }}) over (
            partition by {{ group_by | join(', ') }}
        ) as is_first_year
    from {{ model }}
)

select * from ranked
where
    (is_first_year and {{ n_reference_column }} <> 0)
    or (not is_first_year and {{ n_reference_column }} = 0)

{% endtest %}
