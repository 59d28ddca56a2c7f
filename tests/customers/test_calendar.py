from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import agenda
from organizations.months import first_of_month_after

from .factories import ActionFactory, CustomerFactory

URL = reverse("customers:actions")


class TestAgenda:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2026-11", dt.date(2026, 11, 1)),
            ("2027-1", dt.date(2027, 1, 1)),
            ("2026-13", None),
            ("2026-00", None),
            ("abc", None),
            ("", None),
            (None, None),
            ("0001-01", None),
        ],
    )
    def test_it_parses_months(self, value, expected):
        assert agenda.parse_month(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2026-W48", dt.date(2026, 11, 23)),
            ("2026W48", dt.date(2026, 11, 23)),
            ("2026-W53", dt.date(2026, 12, 28)),  # 2026 has 53 ISO weeks
            ("2027-W01", dt.date(2027, 1, 4)),
            ("2025-W53", None),  # 2025 has only 52
            ("2026-W00", None),
            ("xx", None),
            (None, None),
        ],
    )
    def test_it_parses_iso_weeks(self, value, expected):
        assert agenda.parse_week(value) == expected

    def test_month_arithmetic_crosses_years(self):
        assert first_of_month_after(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
        assert first_of_month_after(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
        assert agenda.week_key(dt.date(2027, 1, 1)) == "2026-W53"
        assert agenda.week_key(dt.date(2024, 12, 30)) == "2025-W01"

    def test_the_month_grid_has_whole_weeks_starting_monday(self):
        weeks = agenda.month_weeks(dt.date(2026, 11, 1), {}, today=dt.date(2026, 11, 24))
        assert weeks[0][0].date == dt.date(2026, 10, 26) and not weeks[0][0].in_month
        assert weeks[-1][-1].date == dt.date(2026, 12, 6)
        assert all(len(week) == 7 for week in weeks)
        assert [d.date for w in weeks for d in w if d.is_today] == [dt.date(2026, 11, 24)]


class TestCalendarViews:
    def test_month_view_shows_the_months_actions(self, admin_client, org):
        customer = CustomerFactory(organization=org, name="Kalender GmbH")
        ActionFactory(customer=customer, due_on=dt.date(2026, 2, 10), description="Im Februar")
        ActionFactory(customer=customer, due_on=dt.date(2026, 3, 10), description="Im März")
        response = admin_client.get(URL, {"month": "2026-02"})
        html = response.content.decode()
        assert response.context["view"] == "month"
        assert "Februar 2026" in html
        assert "Im Februar" in html and "Im März" not in html
        assert response.context["prev"] == "2026-01" and response.context["next"] == "2026-03"
        assert 'class="calendar"' in html

    def test_month_navigation_crosses_year_boundaries(self, admin_client):
        december = admin_client.get(URL, {"month": "2026-12"}).context
        assert december["next"] == "2027-01"
        january = admin_client.get(URL, {"month": "2027-01"}).context
        assert january["prev"] == "2026-12"
        html = admin_client.get(URL, {"month": "2026-12"}).content.decode()
        assert "month=2027-01" in html and "month=2026-11" in html

    def test_week_view_and_navigation_across_the_year(self, admin_client, org):
        customer = CustomerFactory(organization=org)
        ActionFactory(customer=customer, due_on=dt.date(2027, 1, 1), description="Neujahr")
        ActionFactory(customer=customer, due_on=dt.date(2027, 1, 4), description="Folgewoche")
        response = admin_client.get(URL, {"view": "week", "week": "2026-W53"})
        html = response.content.decode()
        assert response.context["monday"] == dt.date(2026, 12, 28)
        assert response.context["next"] == "2027-W01" and response.context["prev"] == "2026-W52"
        assert "KW 53" in html and "28.12.2026" in html and "03.01.2027" in html
        assert "Neujahr" in html and "Folgewoche" not in html
        back = admin_client.get(URL, {"view": "week", "week": "2027-W01"}).context
        assert back["prev"] == "2026-W53"

    def test_bad_month_or_week_falls_back_to_today(self, admin_client):
        today = timezone.localdate()
        assert admin_client.get(URL, {"month": "2026-13"}).context["first"] == today.replace(day=1)
        monday = today - dt.timedelta(days=today.weekday())
        assert admin_client.get(URL, {"view": "week", "week": "xx"}).context["monday"] == monday

    def test_today_link_points_at_the_current_period(self, admin_client):
        today = timezone.localdate()
        context = admin_client.get(URL, {"month": "2020-01"}).context
        assert context["current"] == f"{today:%Y-%m}"

    def test_filters_by_assignee_and_open(self, admin_client, org, admin_user, sales_user):
        customer = CustomerFactory(organization=org)
        day = timezone.localdate() + dt.timedelta(days=1)
        ActionFactory(customer=customer, due_on=day, assignee=admin_user, description="Für Admin")
        ActionFactory(customer=customer, due_on=day, assignee=sales_user, description="Für Vertrieb")
        ActionFactory(customer=customer, due_on=day, description="Schon erledigt", done_at=timezone.now())
        week = agenda.week_key(day)
        html = admin_client.get(
            URL, {"view": "week", "week": week, "assignee": sales_user.pk}
        ).content.decode()
        assert "Für Vertrieb" in html and "Für Admin" not in html
        html = admin_client.get(URL, {"view": "week", "week": week, "open": "on"}).content.decode()
        assert "Schon erledigt" not in html and "Für Admin" in html
        html = admin_client.get(URL, {"view": "week", "week": week}).content.decode()
        assert "Schon erledigt" in html

    def test_list_view_shows_open_actions_only_in_due_order(self, admin_client, org):
        customer = CustomerFactory(organization=org)
        late = ActionFactory(
            customer=customer, due_on=timezone.localdate() - dt.timedelta(days=3), description="A"
        )
        soon = ActionFactory(
            customer=customer, due_on=timezone.localdate() + dt.timedelta(days=3), description="B"
        )
        ActionFactory(customer=customer, description="C", done_at=timezone.now())
        response = admin_client.get(URL, {"view": "list"})
        assert [row.record for row in response.context["table"].paginated_rows] == [late, soon]
        assert response.context["count"] == 2

    def test_dates_are_german(self, admin_client, org):
        customer = CustomerFactory(organization=org)
        ActionFactory(customer=customer, due_on=dt.date(2099, 3, 5))
        html = admin_client.get(URL, {"view": "list"}).content.decode()
        assert "05.03.2099" in html
