-- Journey touchpoints, one row per touch, typed and cleaned. A journey that did not convert
-- carries no value (any value on it is set to 0, as the Python journey reader does).
select
    cast(journey_id as varchar) as journey_id,
    lower(trim(cast(market as varchar))) as market,
    cast("timestamp" as timestamp) as touched_at,
    lower(trim(cast(channel as varchar))) as channel,
    lower(trim(cast(interaction as varchar))) as interaction,
    cast(converted as boolean) as converted,
    case when cast(converted as boolean) then cast(conversion_value as double) else 0 end
        as conversion_value,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw', 'journey_touchpoints') }}
