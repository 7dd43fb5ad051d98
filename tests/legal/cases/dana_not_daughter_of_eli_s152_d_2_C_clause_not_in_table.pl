% Text
% Carl is Dana's father since her birth on May 4th, 1990. Eli is Carl's friend.
% By hand: Eli is neither Dana's father nor her mother, and Dana is neither of Eli's, so
% §152(d)(2)(C) holds between them in neither order.

% Question
% Dana bears a relationship to Eli under section 152(d)(2)(C) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
father_(carl_father_of_dana).
agent_(carl_father_of_dana,carl).
patient_(carl_father_of_dana,dana).
start_(carl_father_of_dana,"1990-05-04").
friendship_(carl_and_eli).
agent_(carl_and_eli,carl).
patient_(carl_and_eli,eli).

% Test
:- s152_d_2_C(dana,eli,2017).
:- halt.
