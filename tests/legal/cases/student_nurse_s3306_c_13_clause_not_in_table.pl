% Text
% Alice was paid $3000 in 2017 for services performed for the Mercy School of Nursing, a nurses'
% training school, where she was enrolled and attending classes from September 1st, 2016 to June
% 30th, 2018.
% By hand: service as a student nurse in the employ of a nurses' training school by an individual
% enrolled and regularly attending classes there: §3306(c)(13).

% Question
% Section 3306(c)(13) applies to Alice's employment situation in 2017. Entailment

% Facts
:- [statutes/prolog/init].
nurses_training_school_(mercy_is_a_nursing_school).
agent_(mercy_is_a_nursing_school,"mercy school of nursing").
service_(alice_employed).
patient_(alice_employed,"mercy school of nursing").
agent_(alice_employed,alice).
start_(alice_employed,"2017-01-01").
end_(alice_employed,"2017-12-31").
payment_(alice_is_paid).
agent_(alice_is_paid,"mercy school of nursing").
patient_(alice_is_paid,alice).
start_(alice_is_paid,"2017-12-31").
purpose_(alice_is_paid,alice_employed).
amount_(alice_is_paid,3000).
enrollment_(alice_enrolled).
agent_(alice_enrolled,alice).
patient_(alice_enrolled,"mercy school of nursing").
start_(alice_enrolled,"2016-09-01").
end_(alice_enrolled,"2018-06-30").
attending_classes_(alice_attends).
agent_(alice_attends,alice).
location_(alice_attends,"mercy school of nursing").
start_(alice_attends,"2016-09-01").
end_(alice_attends,"2018-06-30").

% Test
:- s3306_c_13(alice_employed).
:- halt.
