-- Markets, one row each: codes trimmed and cased.
select
    lower(trim(cast(market as varchar))) as market,
    upper(trim(cast(country as varchar))) as country,
    upper(trim(cast(currency as varchar))) as currency
from {{ source('raw', 'markets') }}
