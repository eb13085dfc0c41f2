{#- The image-quality issue names in display order, and whether each is
    degenerate (the image carries no usable content). skinmap/quality.py's
    ISSUES lists the same names in the same order; a test compares them. -#}
{% macro quality_issues() %}
    {{ return([
        ('near_constant', true),
        ('stripes', true),
        ('low_information', true),
        ('dark', false),
        ('light', false),
        ('blurry', false),
        ('tiny', false),
        ('odd_aspect_ratio', false),
        ('grayscale', false),
    ]) }}
{% endmacro %}

{#- The issue names as a SQL list of quoted strings: 'near_constant', 'stripes', ... -#}
{% macro quality_issue_list(degenerate_only=false) -%}
    {%- set names = [] -%}
    {%- for issue, degenerate in quality_issues() if degenerate or not degenerate_only -%}
        {%- do names.append("'" ~ issue ~ "'") -%}
    {%- endfor -%}
    {{ names | join(', ') }}
{%- endmacro %}
