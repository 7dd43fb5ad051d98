% Text
% Carl is Dana's father since her birth on May 4th, 1990.
% By hand: the question asks whether Dana is the father or mother (§152(d)(2)(C)) of the
% taxpayer Carl: she is his daughter, so no. The reverse reading (Carl the father, Dana the
% taxpayer) holds, which is why binding the two people by the facts alone would say yes: the
% dataset writes such role reversals as its negative cases (training s152_c_2_neg).

% Question
% Dana bears a relationship to Carl under section 152(d)(2)(C) for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
father_(carl_father_of_dana).
agent_(carl_father_of_dana,carl).
patient_(carl_father_of_dana,dana).
start_(carl_father_of_dana,"1990-05-04").

% Test
:- s152_d_2_C(dana,carl,2017).
:- halt.
