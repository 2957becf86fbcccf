{#-
    Generic test: `column_name` lies within [min_value, max_value] (either bound may be left
    out; nulls are for not_null to judge). Fails with the rows outside the range.

        - within_range:
            arguments: {min_value: 0, max_value: "{{ var('mmm_max_daily_spend') }}"}
-#}
{% test within_range(model, column_name, min_value=none, max_value=none) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        "within_range on " ~ model ~ "." ~ column_name ~ " needs min_value, max_value or both"
    ) }}
{%- endif %}

select *
from {{ model }}
where
    {%- if min_value is not none %}
    {{ column_name }} < {{ min_value }}
    {%- endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %}
    {{ column_name }} > {{ max_value }}
    {%- endif %}

{% endtest %}
