-- Conversions and value credited to each channel by each rule, per market: the sums of
-- attribution_touch_credits. Within a market and rule, conversions add up to the converted
-- journeys and conversion_value to their value.
{{ config(tags=["attribution"]) }}
{%- set rules = ['first_touch', 'last_touch', 'linear', 'time_decay'] %}

with credited as (
    {%- for rule in rules %}
    select
        market,
        '{{ rule }}' as attribution_model,
        channel,
        sum({{ rule }}_credit) as conversions,
        sum({{ rule }}_credit * conversion_value) as conversion_value
    from {{ ref('attribution_touch_credits') }}
    group by 1, 2, 3
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    market,
    attribution_model,
    channel,
    conversions,
    conversion_value,
    conversions / nullif(sum(conversions) over (partition by market, attribution_model), 0)
        as conversion_share,
    conversion_value
        / nullif(sum(conversion_value) over (partition by market, attribution_model), 0)
        as value_share
from credited
