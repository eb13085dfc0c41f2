{#- Within each group the ranks are 1, 2, ..., max with no gap (a dense
    rank): as many distinct ranks as the largest one, the smallest 1. -#}
{% test ranks_are_dense(model, column_name, group_by) %}

with

ranks as (
    select
        {{ group_by | join(', ') }},
        min({{ column_name }}) as min_rank,
        max({{ column_name }}) as max_rank,
        count(distinct {{ column_name }}) as n_ranks
    from {{ model }}
    group by {{ group_by | join(', ') }}
)

select * from ranks
where min_rank <> 1 or max_rank <> n_ranks

{% endtest %}
