-- Every rule credits, in every market, exactly the converted journeys and their value: the
-- credits of attribution_by_channel add up to the journeys of stg_journey_touchpoints.
-- Fails with each market and rule whose totals differ.
{%- set rules = ['first_touch', 'last_touch', 'linear', 'time_decay'] %}

with journeys as (
    select
        market,
        journey_id,
        max(conversion_value) as conversion_value
    from {{ ref('stg_journey_touchpoints') }}
    where converted
    group by 1, 2
),

expected as (
    select
        market,
        count(*) as conversions,
        sum(conversion_value) as conversion_value
    from journeys
    group by 1
),

rules as (
    {%- for rule in rules %}
    select '{{ rule }}' as attribution_model{% if not loop.last %} union all{% endif %}
    {%- endfor %}
),

credited as (
    select
        market,
        attribution_model,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value
    from {{ ref('attribution_by_channel') }}
    group by 1, 2
)

select
    e.market,
    r.attribution_model,
    e.conversions as converted_journeys,
    coalesce(c.conversions, 0) as credited_conversions,
    e.conversion_value as converted_value,
    coalesce(c.conversion_value, 0) as credited_value
from expected as e
cross join rules as r
left join credited as c
    on e.market = c.market and r.attribution_model = c.attribution_model
where
    abs(e.conversions - coalesce(c.conversions, 0)) > 1e-6
    or abs(e.conversion_value - coalesce(c.conversion_value, 0))
        > 1e-6 * greatest(cast(1 as double), abs(e.conversion_value))
