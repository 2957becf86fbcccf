-- Revenue (the KPI), conversions and the non-media drivers per day and market, typed and cleaned.
select
    cast("date" as date) as date_day,
    lower(trim(cast(market as varchar))) as market,
    cast(revenue as double) as revenue,
    cast(conversions as bigint) as conversions,
    cast(price_index as double) as price_index,
    cast(promo as integer) as promo,
    cast(_loaded_at as timestamp) as loaded_at
from {{ source('raw', 'sales') }}
