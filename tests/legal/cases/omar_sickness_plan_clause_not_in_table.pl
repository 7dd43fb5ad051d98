% Text
% Omar employs Rita all of 2017. His plan for all his employees makes provision for them in case
% of sickness; on 2017-06-30 he paid $2,400 into it for Rita.
% By hand: a payment made on behalf of an employee under a plan established by the employer for
% his employees generally, on account of sickness: §3306(b)(2)(A), so §3306(b)(2) excludes it
% from wages. No training case asks about (b)(2) itself; the question names the plan, and the
% payment position takes the payments into it.

% Question
% Section 3306(b)(2) applies to the payments into Omar's plan. Entailment

% Facts
:- [statutes/prolog/init].
service_(rita_works_for_omar).
agent_(rita_works_for_omar,rita).
patient_(rita_works_for_omar,omar).
start_(rita_works_for_omar,"2017-01-02").
end_(rita_works_for_omar,"2017-12-29").
plan_(omar_plan).
agent_(omar_plan,omar).
purpose_(omar_plan,"make provisions for employees in case of sickness").
payment_(omar_pays_into_plan).
agent_(omar_pays_into_plan,omar).
patient_(omar_pays_into_plan,omar_plan).
beneficiary_(omar_pays_into_plan,rita).
amount_(omar_pays_into_plan,2400).
start_(omar_pays_into_plan,"2017-06-30").

% Test
:- s3306_b_2(omar_plan).
:- halt.
