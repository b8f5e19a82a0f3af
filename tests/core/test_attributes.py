"""Musical attributes: hand-computed values on small examples."""

from composer_app.core.attributes import ATTRIBUTE_NAMES, EMPTY_ATTRIBUTES, compute_attributes


def test_empty_list_gives_defined_attributes():
    assert compute_attributes([], 480) == EMPTY_ATTRIBUTES
    assert tuple(EMPTY_ATTRIBUTES.as_dict()) == ATTRIBUTE_NAMES
