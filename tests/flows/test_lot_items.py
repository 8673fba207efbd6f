"""Reading a lot's content from one line, as donors write it."""

from __future__ import annotations

import pytest

from flows.lot_items import read_items
from flows.records import DeviceCategory as C


@pytest.mark.parametrize(("typed", "counts"), [
    ("12 portables, 3 écrans", {C.LAPTOP: 12, C.SCREEN: 3}),
    ("12 PORTABLES 3 ECRANS", {C.LAPTOP: 12, C.SCREEN: 3}),
    ("portables : 12 et écrans : 3", {C.LAPTOP: 12, C.SCREEN: 3}),
    ("douze portables et trois écrans", {C.LAPTOP: 12, C.SCREEN: 3}),
    ("12 portabels; 3 imprimentes", {C.LAPTOP: 12, C.PRINTER: 3}),
    ("un vieux portable", {C.LAPTOP: 1}),
    ("3 portables neufs", {C.LAPTOP: 3}),
    ("une dizaine d'écrans", {C.SCREEN: 10}),
    ("deux cents câbles", {C.PERIPHERAL: 200}),
    ("vingt-deux souris", {C.PERIPHERAL: 22}),
    ("quatre-vingts câbles, soixante-dix claviers", {C.PERIPHERAL: 150}),
    ("quatre-vingt-dix écrans", {C.SCREEN: 90}),
    ("2 téléphones portables", {C.SMARTPHONE: 2}),
    ("4 unités centrales / 1 serveur", {C.DESKTOP: 4, C.SERVER: 1}),
    ("Unités centrales (ordinateurs fixes) : 4", {C.DESKTOP: 4}),
    ("x3 tours + 2 PC portables", {C.DESKTOP: 3, C.LAPTOP: 2}),
    ("5 tablettes\n2 smartphones", {C.TABLET: 5, C.SMARTPHONE: 2}),
    ("12 laptops and 3 screens", {C.LAPTOP: 12, C.SCREEN: 3}),
    ("two dozen monitors", {C.SCREEN: 24}),
    ("2 portables, 3 portables", {C.LAPTOP: 5}),
])
def test_a_line_gives_counts_per_category(typed: str, counts: dict[C, int]):
    reading = read_items(typed)
    assert reading.counts == counts
    assert not reading.unknown and not reading.uncounted and not reading.too_many


def test_what_is_not_understood_is_kept_as_typed_and_the_rest_read():
    reading = read_items("12 portables, 3 bidules, 12 pc")
    assert reading.counts == {C.LAPTOP: 12}
    assert reading.unknown == ["3 bidules", "12 pc"]  # "pc" alone: laptop or desktop?


def test_a_type_without_a_number_is_to_be_asked():
    reading = read_items("des écrans, 12 portables et des claviers")
    assert reading.counts == {C.LAPTOP: 12}
    assert reading.uncounted == [C.SCREEN, C.PERIPHERAL]


def test_a_count_over_the_bound_is_named():
    reading = read_items("1001 écrans, 2 portables")
    assert reading.too_many == [C.SCREEN] and reading.counts == {C.LAPTOP: 2}


def test_the_labels_of_another_language_are_read_too():
    reading = read_items("3 ordenadores", {"ordenadore": C.DESKTOP})
    assert reading.counts == {C.DESKTOP: 3}
