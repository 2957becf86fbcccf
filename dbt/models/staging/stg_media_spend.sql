-- Media spend and exposure per day, market and channel, typed and cleaned; nothing is dropped
-- or de-duplicated here (the tests report problems instead of hiding them).
select
    cast("date" as date) as date_day,
    lower(trim(cast(market as varchar))) as market,
    lower(trim(cast(channel as varchar))) as channel,
    cast(spend as double) as spend,
    cast(impressions as bigint) as impressions,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw', 'media_spend') }}
