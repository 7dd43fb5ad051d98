% Text
% Carl is Bea's father since her birth on January 1st, 2001. Dot and Carl are siblings.
% By hand: Dot is a sister of Bea's father (§152(d)(2)(F)), with Bea as the taxpayer.

% Question
% Dot bears a relationship to Bea under section 152(d)(2)(F). Entailment

% Facts
:- [statutes/prolog/init].
father_(carl_father_of_bea).
agent_(carl_father_of_bea,carl).
patient_(carl_father_of_bea,bea).
start_(carl_father_of_bea,"2001-01-01").
sibling_(carl_and_dot).
agent_(carl_and_dot,dot).
patient_(carl_and_dot,carl).

% Test
:- s152_d_2_F(dot,bea,_,_,_).
:- halt.
