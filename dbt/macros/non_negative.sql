{#-
    Generic test: `column_name` is never negative (spend, impressions, revenue...).
    Fails with the offending rows.
-#}
{% test non_negative(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
