% Text
% Carl is Bea's father since her birth on January 1st, 2001. Dot and Carl are siblings.
% By hand: Bea is a daughter of Dot's brother (§152(d)(2)(E)), with Dot as the taxpayer.

% Question
% Bea bears a relationship to Dot under section 152(d)(2)(E) for the year 2017. Entailment

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
:- s152_d_2_E(bea,dot,2017).
:- halt.
