{#-
    Generic test: every week between the first and the last one of `column_name` (a date,
    daily or weekly) has at least one row, within each group of `partition_by` (a column or a
    list of columns, e.g. market, or [market, channel]). Weeks start on Monday.
    Fails with one row per gap: the last week before it, the first week after it and how many
    weeks are missing.
-#}
{% test no_missing_weeks(model, column_name, partition_by=none) %}

{%- if partition_by is none %}
    {%- set groups = [] %}
{%- elif partition_by is string %}
    {%- set groups = [partition_by] %}
{%- else %}
    {%- set groups = partition_by %}
{%- endif %}

with weeks as (
    select distinct
        {%- for column in groups %}
        {{ column }},
        {%- endfor %}
        cast({{ dbt.date_trunc('week', column_name) }} as date) as week_start
    from {{ model }}
    where {{ column_name }} is not null
),

ordered as (
    select
        *,
        lead(week_start) over (
            {% if groups %}partition by {{ groups | join(', ') }}{% endif %}
            order by week_start
        ) as next_week_start
    from weeks
)

select
    {%- for column in groups %}
    {{ column }},
    {%- endfor %}
    week_start as week_before_gap,
    next_week_start as week_after_gap,
    {{ dbt.datediff('week_start', 'next_week_start', 'day') }} / 7 - 1 as missing_weeks
from ordered
where {{ dbt.datediff('week_start', 'next_week_start', 'day') }} > 7

{% endtest %}
