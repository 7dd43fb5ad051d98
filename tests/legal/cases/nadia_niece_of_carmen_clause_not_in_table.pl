% Text
% Carmen's sister Lucia has a daughter, Nadia, born on March 3rd, 2005.
% By hand: Nadia is a daughter of a sister of Carmen: §152(d)(2)(E) with respect to Carmen.
% No training case asks about (E): the clause is placed by kind (individual, then taxpayer,
% as the dataset writes its §152(d)(2) clauses).

% Question
% Nadia bears a relationship to Carmen under section 152(d)(2)(E) for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
sister_(lucia_sister_of_carmen).
agent_(lucia_sister_of_carmen,lucia).
patient_(lucia_sister_of_carmen,carmen).
daughter_(nadia_daughter_of_lucia).
agent_(nadia_daughter_of_lucia,nadia).
patient_(nadia_daughter_of_lucia,lucia).
start_(nadia_daughter_of_lucia,"2005-03-03").

% Test
:- s152_d_2_E(nadia,carmen,_,_).
:- halt.
