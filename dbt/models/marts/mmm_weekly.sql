-- The MMM modelling table: one row per market and week (weeks start on Monday), a
-- `<channel>_spend` column per channel of var('mmm_channels'), the controls and the KPI.
-- Only complete weeks (7 days of sales) are kept: a partial week at either end is left out, and
-- one inside the range leaves a gap that the `no_missing_weeks` test reports.
{%- set channels = var('mmm_channels') %}

with media_weekly as (
    select
        market,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        {%- for channel in channels %}
        sum(case when channel = '{{ channel }}' then spend else 0 end) as {{ channel }}_spend
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_media_spend') }}
    group by 1, 2
),

sales_weekly as (
    select
        market,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        count(distinct date_day) as days,
        avg(price_index) as price_index,
        avg(cast(promo as double)) as promo,
        sum(revenue) as revenue,
        cast(sum(conversions) as bigint) as conversions
    from {{ ref('stg_sales') }}
    group by 1, 2
)

select
    s.market,
    s.week_start as "date",
    {%- for channel in channels %}
    coalesce(m.{{ channel }}_spend, 0) as {{ channel }}_spend,
    {%- endfor %}
    s.price_index,
    s.promo,
    s.revenue,
    s.conversions
from sales_weekly as s
left join media_weekly as m
    on s.market = m.market and s.week_start = m.week_start
where s.days = 7
