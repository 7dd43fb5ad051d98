% Text
% Carl is Dana's father since her birth on May 4th, 1990.
% By hand: Carl is the father of the taxpayer Dana, §152(d)(2)(C) (the individual named first,
% the taxpayer second, as the dataset writes §152).

% Question
% Carl bears a relationship to Dana under section 152(d)(2)(C) for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
father_(carl_father_of_dana).
agent_(carl_father_of_dana,carl).
patient_(carl_father_of_dana,dana).
start_(carl_father_of_dana,"1990-05-04").

% Test
:- s152_d_2_C(carl,dana,2017).
:- halt.
