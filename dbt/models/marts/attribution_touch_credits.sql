-- Journey-level rule-based attribution: every touch of a converted journey with its credit
-- under each rule (each rule's credits add up to 1 per journey):
--   first_touch  all to the first touch        last_touch  all to the last touch
--   linear       1/n to each of the n touches
--   time_decay   2^(-age / half_life), normalised, age = days from the touch to the last touch
--                (half_life = var('mmm_time_decay_half_life_days'))
-- The same rules as mmm_core.attribution.heuristics (touches tied in time are ordered by
-- channel here).
{{ config(tags=["attribution"]) }}
{%- set half_life = var('mmm_time_decay_half_life_days') %}

with touches as (
    select
        journey_id,
        market,
        touched_at,
        channel,
        interaction,
        conversion_value,
        row_number() over (partition by journey_id order by touched_at, channel) as touch_number,
        count(*) over (partition by journey_id) as journey_touches,
        max(touched_at) over (partition by journey_id) as last_touched_at
    from {{ ref('stg_journey_touchpoints') }}
    where converted
),

aged as (
    select
        *,
        cast({{ dbt.datediff('touched_at', 'last_touched_at', 'second') }} as double) / 86400
            as days_before_last_touch
    from touches
),

decayed as (
    select
        *,
        power(cast(2 as double), -days_before_last_touch / {{ half_life }}) as decay_weight
    from aged
)

select
    journey_id,
    market,
    touch_number,
    journey_touches,
    touched_at,
    channel,
    interaction,
    days_before_last_touch,
    conversion_value,
    cast(case when touch_number = 1 then 1 else 0 end as double) as first_touch_credit,
    cast(case when touch_number = journey_touches then 1 else 0 end as double)
        as last_touch_credit,
    cast(1 as double) / journey_touches as linear_credit,
    decay_weight / sum(decay_weight) over (partition by journey_id) as time_decay_credit
from decayed
