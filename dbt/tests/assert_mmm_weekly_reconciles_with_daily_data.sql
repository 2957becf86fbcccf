-- Each week of the modelling table holds all the daily spend and revenue of its market and week:
-- the media spend of every channel in stg_media_spend (a channel missing from
-- var('mmm_channels') would be lost) and the revenue of stg_sales, to the cent.
-- Fails with each market-week whose totals differ.
{%- set channels = var('mmm_channels') %}

with daily_media as (
    select
        market,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        sum(spend) as spend
    from {{ ref('stg_media_spend') }}
    group by 1, 2
),

daily_sales as (
    select
        market,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        sum(revenue) as revenue
    from {{ ref('stg_sales') }}
    group by 1, 2
),

weekly as (
    select
        market,
        "date" as week_start,
        {% for channel in channels %}{{ channel }}_spend{% if not loop.last %} + {% endif %}{% endfor %}
            as spend,
        revenue
    from {{ ref('mmm_weekly') }}
)

select
    w.market,
    w.week_start,
    w.spend as weekly_spend,
    coalesce(m.spend, 0) as daily_spend,
    w.revenue as weekly_revenue,
    coalesce(s.revenue, 0) as daily_revenue
from weekly as w
left join daily_media as m
    on w.market = m.market and w.week_start = m.week_start
left join daily_sales as s
    on w.market = s.market and w.week_start = s.week_start
where
    abs(w.spend - coalesce(m.spend, 0)) > 0.01
    or abs(w.revenue - coalesce(s.revenue, 0)) > 0.01
