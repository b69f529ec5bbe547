"""Factories of the learning domain: courses, modules, quiz questions, enrollments."""

from __future__ import annotations

import factory

from app.learning.models import Course, Enrollment, Module, QuizQuestion
from tests.helpers.factories import Base
from tests.people.factories import UserFactory


class CourseFactory(Base):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"C-{n:04d}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "A course."
    category = "General"
    status = "published"


class ModuleFactory(Base):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = "text"
    title = factory.Sequence(lambda n: f"Module {n}")
    body = "Hello"
    settings = factory.LazyFunction(dict)


class QuizQuestionFactory(Base):
    class Meta:
        model = QuizQuestion

    module = factory.SubFactory(ModuleFactory, kind="quiz")
    kind = "single"
    prompt = "Pick one"
    options = factory.LazyFunction(lambda: ["a", "b"])
    answer = factory.LazyFunction(lambda: {"correct": [0]})


class EnrollmentFactory(Base):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
