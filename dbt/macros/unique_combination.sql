{#-
    Generic test (model level): no two rows share the values of `combination_of_columns`,
    e.g. one spend row per day, market and channel. Fails with each repeated key and its count.
-#}
{% test unique_combination(model, combination_of_columns) %}

{%- set columns = combination_of_columns | join(', ') %}

select
    {{ columns }},
    count(*) as repeated_rows
from {{ model }}
group by {{ columns }}
having count(*) > 1

{% endtest %}
